package local.tiktokshop.mongo;

import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.List;
import java.util.Map.Entry;
import java.util.stream.StreamSupport;

import org.h2.mvstore.MVMap;

import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;

/**
 * A unique index over an H2 map: mongo-java-server's {@code H2UniqueIndex} (whose constructor
 * is not reachable from here), with its keys held serialised (see {@link SerializedKey}).
 */
final class LocalUniqueIndex extends AbstractUniqueIndex<Object> {

    private final MVMap<SerializedKey, Object> map;

    LocalUniqueIndex(MVMap<SerializedKey, Object> map, String name, List<IndexKey> keys,
                     boolean sparse) {
        super(name, keys, sparse);
        this.map = map;
    }

    @Override
    protected Object removeDocument(KeyValue keyValue) {
        return map.remove(SerializedKey.of(keyValue));
    }

    @Override
    protected boolean putKeyPosition(KeyValue keyValue, Object position) {
        return map.putIfAbsent(SerializedKey.of(keyValue), Missing.ofNullable(position)) == null;
    }

    @Override
    protected Iterable<Entry<KeyValue, Object>> getIterable() {
        // Only a regular expression over the index walks it: keys are read back as they come.
        return () -> StreamSupport.stream(map.entrySet().spliterator(), false)
            .<Entry<KeyValue, Object>>map(e -> new SimpleImmutableEntry<>(e.getKey().value(), e.getValue()))
            .iterator();
    }

    @Override
    protected Object getPosition(KeyValue keyValue) {
        return map.get(SerializedKey.of(keyValue));
    }

    @Override
    public long getCount() {
        return map.sizeAsLong();
    }

    @Override
    public boolean isEmpty() {
        return map.isEmpty();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }
}
