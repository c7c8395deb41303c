import NIOCore

/// Why a TCP stream was dropped.
enum TCPFramingError: Error, Hashable {
    /// The length prefix announced a message larger than this end accepts.
    case frameTooLarge(Int)
}

/// Splits a DNS-over-TCP stream into messages: each is preceded by its length as a 16-bit big-endian
/// number (RFC 1035 §4.2.2, RFC 7766 §8).
struct TCPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Frames announced larger than this end the connection.
    let maximumFrameLength: Int

    init(maximumFrameLength: Int = 65_535) {
        self.maximumFrameLength = maximumFrameLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return .needMoreData }
        guard Int(length) <= maximumFrameLength else { throw TCPFramingError.frameTooLarge(Int(length)) }
        guard buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial message at the end of the stream is dropped: there is nobody left to answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Prefixes each outgoing message with its 16-bit length.
struct TCPFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard data.readableBytes <= 65_535 else { throw TCPFramingError.frameTooLarge(data.readableBytes) }
        out.writeInteger(UInt16(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
