package local.tiktokshop.mongo;

import java.nio.ByteBuffer;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The value type of a collection's documents: BSON, where H2's {@link ObjectDataType} stores a
 * Java serialisation of each document.
 *
 * <p>H2 writes a whole page again for every change to one of its documents, and Java
 * serialisation (a new object stream, with the class descriptors of every nested type, per
 * document) made most of the server's commit work and of its garbage: measured here, a thread
 * serialising pages and the collectors together used more CPU than the commands themselves.
 * BSON is what the documents came as, smaller and quicker both ways.
 *
 * <p>Files written before still read: a value starts with {@link #BSON}, a tag
 * {@code ObjectDataType} never writes, or is read as {@code ObjectDataType} wrote it. A
 * document BSON cannot hold (nothing the wire protocol brings) is also written that way.
 */
final class DocumentType extends BasicDataType<Object> {

    /** Marks a value written here; ObjectDataType's tags are 0 to 19, 32 to 49 and 64 to 119. */
    static final byte BSON = 127;

    private final ObjectDataType other = new ObjectDataType();

    /** H2's page size estimate per document: twice the recent encoded sizes, as H2's own. */
    private volatile int averageSize = 1024;

    @Override
    public int getMemory(Object value) {
        return value instanceof Document ? averageSize : other.getMemory(value);
    }

    @Override
    public void write(WriteBuffer buff, Object value) {
        if (value instanceof Document document) {
            ByteBuf bson = Unpooled.buffer(averageSize);
            boolean encoded;
            try {
                BsonEncoder.encodeDocument(document, bson);
                encoded = true;
            } catch (IllegalArgumentException e) {
                encoded = false;
            }
            if (encoded) {
                int length = bson.readableBytes();
                buff.put(BSON).putVarInt(length).put(bson.array(), bson.arrayOffset(), length);
                averageSize = (2 * length + 15 * averageSize) / 16;
                return;
            }
        }
        other.write(buff, value);
    }

    @Override
    public Object read(ByteBuffer buff) {
        if (buff.get(buff.position()) != BSON) {
            return other.read(buff);
        }
        buff.get();
        int length = DataUtils.readVarInt(buff);
        ByteBuffer bson = buff.slice();
        bson.limit(length);
        buff.position(buff.position() + length);
        return BsonDecoder.decodeBson(Unpooled.wrappedBuffer(bson));
    }

    @Override
    public int compare(Object a, Object b) {
        return other.compare(a, b);
    }

    @Override
    public Object[] createStorage(int size) {
        return new Object[size];
    }
}
