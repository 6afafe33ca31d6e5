package local.tiktokshop.mongo;

import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * mongo-java-server's H2 file backend, made to keep what it acknowledged.
 *
 * <p>H2's MVStore writes changes to its file about once a second by default, so a killed
 * process loses the last second of acknowledged writes. Here every write command commits the
 * store, and waits for the store's background writer, before its answer goes back: an
 * acknowledged write is in the file (the operating system's page cache; there is no fsync, so
 * a power cut can still lose it, a killed process cannot).
 *
 * <p>It also answers {@code hello}, the handshake command of MongoDB 4.4.2 and later, which
 * mongo-java-server 1.47 knows only as the legacy {@code isMaster}.
 */
final class DurableH2Backend extends H2Backend {

    /** The commands that can change data or metadata (MongoDB's names, compared lower-case). */
    private static final Set<String> WRITE_COMMANDS = Set.of(
        "insert", "update", "delete", "findandmodify", "create", "createindexes", "drop",
        "dropindexes", "dropdatabase", "renamecollection");

    /** Aggregation stages that write their results into a collection. */
    private static final Set<String> WRITING_STAGES = Set.of("$out", "$merge");

    DurableH2Backend(MVStore store) {
        super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new LocalH2Database(databaseName, getMvStore(), getCursorRegistry());
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        String name = command.toLowerCase(Locale.ROOT);
        if (name.equals("hello")) {
            return hello(channel, database, query);
        }
        if (!writes(name, query)) {
            return super.handleCommand(channel, database, command, query);
        }
        try {
            return super.handleCommand(channel, database, command, query);
        } finally {
            // Also after a failed command: an unordered batch may have applied part of itself.
            persist();
        }
    }

    private Document hello(Channel channel, String database, Document query) {
        Document isMaster = super.handleCommand(channel, database, "isMaster", query);
        Document response = new Document("isWritablePrimary", isMaster.remove("ismaster"));
        response.putAll(isMaster);
        return response;
    }

    private static boolean writes(String name, Document query) {
        if (WRITE_COMMANDS.contains(name)) {
            return true;
        }
        if (name.equals("aggregate") && query.get("pipeline") instanceof List<?> stages) {
            return stages.stream().anyMatch(stage -> stage instanceof Document document
                && document.keySet().stream().anyMatch(WRITING_STAGES::contains));
        }
        return false;
    }

    /**
     * Commits the store and returns once the file holds every change made so far.
     *
     * <p>{@code commit()} alone is not enough: when the background writer has just taken this
     * command's changes into a version of its own, {@code commit()} finds nothing unsaved and
     * returns while that version may still be queued for writing. The no-op file-store operation
     * waits until the store's serialisation and write queues are empty.
     */
    private void persist() {
        MVStore store = getMvStore();
        store.commit();
        store.executeFilestoreOperation(() -> { });
    }
}
