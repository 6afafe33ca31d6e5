package local.tiktokshop.mongo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;

/**
 * The local MongoDB-wire database for development and tests: mongo-java-server over its H2 file
 * backend, every acknowledged write committed to the file first (see {@link DurableH2Backend}).
 *
 * <pre>
 * java -cp 'lib/*' local.tiktokshop.mongo.LocalMongo --data=DIR [--host=127.0.0.1] [--port=27027]
 *      [--cache-mb=512]
 * </pre>
 *
 * <p>The data lives in one file, {@code DIR/mongo.mv.db}, which H2 locks: a second process on the
 * same directory fails at start. SIGTERM (or Ctrl-C) closes the listener and the store cleanly.
 * Exit status 2 for a bad argument, 1 when the store or the port cannot be opened.
 */
public final class LocalMongo {

    private static final Logger log = LoggerFactory.getLogger(LocalMongo.class);

    /**
     * The release this server says it is. mongo-java-server 1.47 says 5.0 (wire version 8),
     * which PyMongo 4.20 refuses: it needs at least 9 (MongoDB 4.4). What PyMongo 4.20 does
     * differently between 9 and 24 (snapshot reads, replica-set elections, queryable
     * encryption) is nothing the service uses.
     */
    private static final MongoVersion ANNOUNCED = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(6, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 17;
        }
    };

    /** Changes waiting in memory before H2 writes them on its own, within one command. */
    private static final int AUTO_COMMIT_KB = 64 * 1024;

    private LocalMongo() {
    }

    public static void main(String[] args) {
        Map<String, String> options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        String host = options.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(options.getOrDefault("port", "27027"));
        int cacheMb = Integer.parseInt(options.getOrDefault("cache-mb", "512"));
        Path data = Path.of(options.get("data")).toAbsolutePath();

        MongoServer server;
        try {
            Files.createDirectories(data);
            Path file = data.resolve("mongo.mv.db");
            long started = System.nanoTime();
            // A large page cache: with H2's default 16 MB, scans of a 100k-document collection
            // read pages back from the file and run about 15 times slower.
            // Changes are committed at the end of every write command (DurableH2Backend); H2's
            // own commit once 1 MB of changes is waiting made a large insert write the pages it
            // touched again and again (with random ids, most of the collection) before then.
            MVStore store = new MVStore.Builder().fileName(file.toString()).cacheSize(cacheMb)
                .autoCommitBufferSize(AUTO_COMMIT_KB).open();
            DurableH2Backend backend = new DurableH2Backend(store);
            backend.version(ANNOUNCED);
            log.info("opened {} in {} ms", file, (System.nanoTime() - started) / 1_000_000);
            server = new MongoServer(backend);
            server.bind(host, port);
        } catch (IOException | RuntimeException e) {
            log.error("could not start: {}", e.toString(), e);
            System.exit(1);
            return;
        }
        MongoServer running = server;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping");
            running.shutdownNow();
            log.info("stopped");
        }, "local-mongo-shutdown"));
        log.info("ready on {}:{} (MongoDB {}, wire version {})", host, port,
            ANNOUNCED.toVersionString(), ANNOUNCED.getWireVersion());
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'; use --name=value");
            }
            String name = arg.substring(2, eq);
            if (!List.of("host", "port", "data", "cache-mb").contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
            options.put(name, arg.substring(eq + 1));
        }
        if (!options.containsKey("data")) {
            throw new IllegalArgumentException("--data=DIR is required");
        }
        return options;
    }
}
