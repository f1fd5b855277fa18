package org.torchcell.neo4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.ByteUnit;

/**
 * Starts an embedded Neo4j with a Bolt connector on 127.0.0.1 and blocks until SIGTERM/SIGINT,
 * then shuts the database down cleanly (the JVM shutdown hook runs on SIGTERM).
 *
 * <p>Usage: {@code Launcher --home DIR --port PORT --password-file FILE [--pagecache-mb N]}.
 * Authentication is on: the user {@code neo4j} gets the password in FILE (created by {@code tc db
 * start}, mode 0600) at every start, so other users of a shared host cannot read or change the
 * graph even though the server listens on the loopback interface. The password travels in a
 * file, never on the command line, where {@code ps} would show it.
 */
public final class Launcher {

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Path home = null;
        int port = 7687;
        long pageCacheMb = 256;
        Path passwordFile = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--home" -> home = Path.of(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--pagecache-mb" -> pageCacheMb = Long.parseLong(args[++i]);
                case "--password-file" -> passwordFile = Path.of(args[++i]);
                default -> {
                    System.err.println("unknown argument: " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (home == null || passwordFile == null) {
            System.err.println(
                    "usage: Launcher --home DIR --port PORT --password-file FILE [--pagecache-mb N]");
            System.exit(2);
        }
        String password = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
        if (password.length() < 8) {
            System.err.println("the password in " + passwordFile + " is shorter than 8 characters");
            System.exit(2);
        }
        Files.createDirectories(home);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .build();
        // Embedded transactions bypass authentication: set the password before Bolt is used.
        // A restart on an existing home finds the password already set: Neo4j refuses to set the
        // same one again, which is the state we want, so only that refusal is ignored.
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        } catch (QueryExecutionException e) {
            String message = e.getMessage() == null ? "" : e.getMessage();
            if (!message.contains("Old password and new password cannot be the same")) {
                dbms.shutdown();
                throw e;
            }
        }
        // Touch the default database so that a Bolt client never races its start.
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("torchcell-neo4j: shutting down");
            dbms.shutdown();
            stopped.countDown();
        }, "torchcell-neo4j-shutdown"));
        System.out.println("torchcell-neo4j: ready bolt://127.0.0.1:" + port + " home=" + home);
        System.out.flush();
        stopped.await();
    }
}
