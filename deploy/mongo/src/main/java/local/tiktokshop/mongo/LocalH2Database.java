package local.tiktokshop.mongo;

import java.util.List;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.EmptyIndex;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;

/**
 * mongo-java-server's H2 database, with documents stored as BSON (see {@link DocumentType}),
 * unique indexes that compare keys cheaply (see {@link SerializedKey}) and without a pointless
 * pass over every document per non-unique index.
 *
 * <p>mongo-java-server accepts non-unique indexes but keeps nothing for them (they are listed,
 * never used). Such an index always says it is empty, and an empty index is "built" by reading
 * every document of the collection twice: at each start and for each non-unique index, which
 * made a restart with 100,000 orders take about 13 seconds. Here such an index says it is not
 * empty, so nothing is read for it; it behaves the same otherwise.
 */
final class LocalH2Database extends H2Database {

    /** The store, for the indexes H2Database's constructor opens before this one's fields are set. */
    private static final ThreadLocal<MVStore> OPENING = new ThreadLocal<>();

    private final MVStore mvStore;

    LocalH2Database(String databaseName, MVStore store, CursorRegistry cursorRegistry) {
        super(databaseName, opening(store), cursorRegistry);
        OPENING.remove();
        this.mvStore = store;
    }

    private MVStore store() {
        return mvStore != null ? mvStore : OPENING.get();
    }

    private static MVStore opening(MVStore store) {
        OPENING.set(store);
        return store;
    }

    @Override
    protected MongoCollection<Object> openOrCreateCollection(String collectionName,
                                                             CollectionOptions options) {
        // H2Database's map names ("databases." and "meta." + namespace), so that the
        // collections of existing files are found again.
        String namespace = getFullCollectionNamespace(collectionName);
        MVMap<Object, Document> documents = store().openMap("databases." + namespace,
            new MVMap.Builder<Object, Document>().valueType(new DocumentType()));
        MVMap<String, Object> meta = store().openMap("meta." + namespace);
        return new H2Collection(this, collectionName, options, documents, meta, cursorRegistry);
    }

    @Override
    protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName,
                                                    List<IndexKey> keys, boolean sparse) {
        // H2Database's map name, so that the indexes of existing files are found again.
        String mapName = getFullCollectionNamespace(collectionName) + "._index_" + indexName;
        MVMap<SerializedKey, Object> map = store().openMap(mapName,
            new MVMap.Builder<SerializedKey, Object>().keyType(new SerializedKeyType()));
        return new LocalUniqueIndex(map, indexName, keys, sparse);
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
