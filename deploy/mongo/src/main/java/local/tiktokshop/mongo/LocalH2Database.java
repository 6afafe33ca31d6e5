package local.tiktokshop.mongo;

import java.util.List;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.EmptyIndex;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.h2.H2Database;

/**
 * mongo-java-server's H2 database, without a pointless pass over every document per
 * non-unique index.
 *
 * <p>mongo-java-server accepts non-unique indexes but keeps nothing for them (they are listed,
 * never used). Such an index always says it is empty, and an empty index is "built" by reading
 * every document of the collection twice: at each start and for each non-unique index, which
 * made a restart with 100,000 orders take about 13 seconds. Here such an index says it is not
 * empty, so nothing is read for it; it behaves the same otherwise.
 */
final class LocalH2Database extends H2Database {

    LocalH2Database(String databaseName, MVStore store, CursorRegistry cursorRegistry) {
        super(databaseName, store, cursorRegistry);
    }

    @Override
    protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName,
                                                       List<IndexKey> keys, boolean sparse) {
        return new UnusedIndex(indexName, keys);
    }

    private static final class UnusedIndex extends EmptyIndex<Object> {

        UnusedIndex(String name, List<IndexKey> keys) {
            super(name, keys);
        }

        @Override
        public boolean isEmpty() {
            return false; // nothing to build: it holds nothing
        }
    }
}
