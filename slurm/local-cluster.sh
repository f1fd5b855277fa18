#!/usr/bin/env bash
# A real SLURM cluster on this one machine, for tests and for trying `--executor slurm`:
# munged, slurmctld and N slurmd daemons ("virtual nodes" n1..nN on localhost), no systemd.
#
#   slurm/local-cluster.sh start [N]   # default 4 nodes; prints the SLURM_CONF to export
#   slurm/local-cluster.sh stop
#
# Needs Debian's packages: apt-get install slurmctld slurmd slurm-client munge (as root).
# State, logs and the config live in $TC_SLURM_DIR (default /tmp/tc-slurm).
set -euo pipefail
DIR="${TC_SLURM_DIR:-/tmp/tc-slurm}"
CONF="$DIR/slurm.conf"
NODES="${2:-4}"
CPUS="${TC_SLURM_CPUS:-2}"

start() {
  for tool in slurmctld slurmd munged sinfo; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install slurmctld slurmd slurm-client munge" >&2; exit 1; }
  done
  mkdir -p "$DIR"/{state,log,spool}
  for i in $(seq 1 "$NODES"); do mkdir -p "$DIR/spool/n$i"; done

  # munge: a key and the daemon, started as the munge user; checked by a real round trip.
  if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 1 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  fi

  host="$(hostname -s)"
  cat > "$CONF" <<CONF
ClusterName=torchcell
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=300
NodeName=n[1-$NODES] NodeHostname=$host NodeAddr=127.0.0.1 Port=[17001-$((17000 + NODES))] CPUs=$CPUS RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=n[1-$NODES] Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  export SLURM_CONF="$CONF"
  slurmctld -f "$CONF"
  for i in $(seq 1 "$NODES"); do slurmd -f "$CONF" -N "n$i"; done
  for _ in $(seq 1 100); do
    idle=$(sinfo -h -o '%T %D' 2>/dev/null | awk '$1=="idle"{n+=$2} END{print n+0}')
    [ "$idle" -ge "$NODES" ] && break
    sleep 0.2
  done
  sinfo
  echo "export SLURM_CONF=$CONF"
}

stop() {
  export SLURM_CONF="$CONF"
  for pidfile in "$DIR"/slurmd.*.pid "$DIR/slurmctld.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  pkill -f "slurmd -f $CONF" 2>/dev/null || true
  pkill -f "slurmctld -f $CONF" 2>/dev/null || true
  echo "stopped the local SLURM cluster in $DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start [N] | stop" >&2; exit 2 ;;
esac
