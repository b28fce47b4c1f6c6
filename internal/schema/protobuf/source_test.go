package protobuf_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// A schema given as a base64 FileDescriptorProto (Confluent's serializers)
// becomes .proto text with the same normal form as the text it was
// compiled from, and serializes back to an equivalent descriptor.
func TestSourceForms(t *testing.T) {
	t.Parallel()
	text, err := protobuf.Source("\n" + orderProto + "\n")
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(orderProto), text, ".proto text is kept as given, trimmed")

	ser, err := protobuf.Serialized(text)
	require.NoError(t, err)
	var fd descriptorpb.FileDescriptorProto
	require.NoError(t, proto.Unmarshal(ser, &fd))
	require.Equal(t, "shop.v1", fd.GetPackage())
	require.Equal(t, []string{"Order", "Address"}, []string{fd.GetMessageType()[0].GetName(), fd.GetMessageType()[1].GetName()})
	require.Nil(t, fd.SourceCodeInfo)

	// Under another file name, as a client's descriptor would be.
	fd.Name = proto.String("shop/v1/order.proto")
	raw, err := proto.Marshal(&fd)
	require.NoError(t, err)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		printed, err := protobuf.Source(enc.EncodeToString(raw))
		require.NoError(t, err)
		require.Contains(t, printed, "message Order {")
		require.Contains(t, printed, `pattern: "^ORD-[0-9]{6}$"`)
		want, err := protobuf.Normal(text)
		require.NoError(t, err)
		got, err := protobuf.Normal(printed)
		require.NoError(t, err)
		require.Equal(t, want, got, "the descriptor and the text it came from have one normal form")
		_, err = protobuf.Parse([]byte(printed), protobuf.Options{})
		require.NoError(t, err, "the printed text compiles for validation")
	}
}

// Layout, comments and json_name options that repeat the default do not
// change the normal form; a field of another number does.
func TestNormal(t *testing.T) {
	t.Parallel()
	a := `syntax = "proto3"; package p; message M { string user_id = 1; int32 n = 2; }`
	b := `// a comment
syntax = "proto3";
package p;

/* the message */
message M {
  string user_id = 1 [json_name = "userId"]; // trailing
  int32  n       = 2;
}`
	c := `syntax = "proto3"; package p; message M { string user_id = 1; int32 n = 3; }`
	na, err := protobuf.Normal(a)
	require.NoError(t, err)
	nb, err := protobuf.Normal(b)
	require.NoError(t, err)
	nc, err := protobuf.Normal(c)
	require.NoError(t, err)
	require.Equal(t, na, nb)
	require.NotEqual(t, na, nc)
	require.NotContains(t, nb, "comment")
}

func TestSourceErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"empty", "  ", "empty schema"},
		{"bad text", `syntax = "proto3"; message M { string a = 1 }`, "syntax error"},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte{0x08, 0xff}), "syntax error"},
		{"descriptor importing another file", descriptorB64(t, &descriptorpb.FileDescriptorProto{
			Name: proto.String("a.proto"), Syntax: proto.String("proto3"), Dependency: []string{"other.proto"},
			MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M")}},
		}), "other.proto"},
		{"descriptor with an unknown type", descriptorB64(t, &descriptorpb.FileDescriptorProto{
			Name: proto.String("a.proto"), Syntax: proto.String("proto3"),
			MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M"), Field: []*descriptorpb.FieldDescriptorProto{{
				Name: proto.String("x"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
				Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".p.Nope"),
			}}}},
		}), "does not compile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := protobuf.Source(c.src)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func descriptorB64(t *testing.T, fd *descriptorpb.FileDescriptorProto) string {
	t.Helper()
	b, err := proto.Marshal(fd)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}
