package local.tiktokshop.mongo;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of a unique index's map (see {@link SerializedKey}): written exactly as
 * {@link ObjectDataType} writes a serialised object (tag 19, length, bytes) and ordered as it
 * orders two of them (unsigned bytes, then length), so files written before read the same.
 */
final class SerializedKeyType extends BasicDataType<SerializedKey> {

    /** ObjectDataType's tag of a Java-serialised object. */
    private static final byte SERIALIZED_OBJECT = 19;

    @Override
    public int compare(SerializedKey a, SerializedKey b) {
        // ObjectDataType.compareNotNull's order (unsigned bytes, then the shorter first), found
        // by the JDK's vectorised mismatch: serialised keys share a long class-descriptor prefix.
        return a == b ? 0 : Arrays.compareUnsigned(a.bytes, b.bytes);
    }

    @Override
    public int getMemory(SerializedKey key) {
        return 2 * key.bytes.length; // H2's estimate for a serialised object
    }

    @Override
    public void write(WriteBuffer buff, SerializedKey key) {
        buff.put(SERIALIZED_OBJECT).putVarInt(key.bytes.length).put(key.bytes);
    }

    @Override
    public SerializedKey read(ByteBuffer buff) {
        byte tag = buff.get();
        if (tag != SERIALIZED_OBJECT) {
            throw new IllegalStateException("an index key with H2 type tag " + tag
                + ", not a serialised KeyValue: the file was not written by mongo-java-server");
        }
        byte[] bytes = new byte[DataUtils.readVarInt(buff)];
        buff.get(bytes);
        return SerializedKey.stored(bytes);
    }

    @Override
    public SerializedKey[] createStorage(int size) {
        return new SerializedKey[size];
    }
}
