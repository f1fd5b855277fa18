"""Training: configs, the Lightning module, the loop, baselines, metrics, compare and sweep.

``torchcell.train`` is also callable: ``from torchcell import train; train(config)`` runs
``torchcell.train.loop.train`` (the package and the function share the name the API promises).
"""

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from torchcell.train.loop import train

        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
