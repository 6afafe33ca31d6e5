package local.tiktokshop.mongo;

import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.backend.KeyValue;

/**
 * A unique index's key as H2's {@link ObjectDataType} stores it: the Java serialisation of
 * mongo-java-server's {@link KeyValue}, kept with the key so that it is made once.
 *
 * <p>{@code KeyValue} is not {@code Comparable}, so {@code ObjectDataType} orders two of them by
 * serialising both and comparing the bytes, at every step of every binary search: about 17
 * pairs of serialisations per lookup in a 100,000-key map, several lookups per index per
 * written document. Measured here, that was most of the server's time per write (3 ms per
 * updated document with three unique indexes). Keys held as their bytes compare, store and load
 * without serialising; the order and the file format stay what they were.
 */
final class SerializedKey {

    final byte[] bytes;
    private KeyValue value;

    private SerializedKey(byte[] bytes, KeyValue value) {
        this.bytes = bytes;
        this.value = value;
    }

    static SerializedKey of(KeyValue value) {
        return new SerializedKey(ObjectDataType.serialize(value), value);
    }

    static SerializedKey stored(byte[] bytes) {
        return new SerializedKey(bytes, null);
    }

    /** The key itself, read back from its bytes the first time it is asked for. */
    KeyValue value() {
        if (value == null) {
            value = (KeyValue) ObjectDataType.deserialize(bytes);
        }
        return value;
    }
}
