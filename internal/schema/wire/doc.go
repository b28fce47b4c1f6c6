// Package wire parses the Confluent Schema Registry wire formats that name
// the schema a Kafka record was written with (PRODUCT.md §4, layer 1):
//
//   - 0x00, then the schema id as a 4-byte big-endian integer, before the
//     payload (every Confluent serializer's default, "magic byte 0");
//   - 0x01, then the schema's 16-byte GUID, before the payload ("magic
//     byte 1", Confluent's newer serializers);
//   - either of the two forms in the __value_schema_id record header
//     (__key_schema_id for keys) instead of a prefix, the payload then
//     being the whole value, as Confluent's HeaderSchemaIdSerializer writes.
//
// For Protobuf, the id is followed by the message indexes that locate the
// message type in the .proto file: a count and that many indexes, each a
// zigzag varint, with a lone 0 meaning [0], the first message. They are
// parsed when Options.Protobuf is set, in the prefix or in the header,
// wherever the id was.
//
// Parse only reads the header; looking the id up in the registry, and
// deciding whether a topic's records carry the wire format at all, belong to
// the caller. A value that starts with neither magic byte has no wire header
// (every JSON document, for one); a value that starts with one but is cut
// short is malformed, an error meant to be reported as DECODE_ERROR.
package wire
