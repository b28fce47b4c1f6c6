package cli

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

const orderProto = `syntax = "proto3";
package shop;

import "buf/validate/validate.proto";

message Order {
  string id = 1 [(buf.validate.field).string.min_len = 1];
  double amount = 2;
  Address address = 3;
}

message Address {
  string zip = 1 [(buf.validate.field).string.pattern = "^[0-9]{5}$"];
}
`

func TestValidateProtobuf(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "order.proto", orderProto)
	rulesFile := writeFile(t, dir, "rules.yaml", "- name: positive\n  expr: message.amount > 0.0\n  field: /amount\n")
	pv, err := protobuf.Parse([]byte(orderProto), protobuf.Options{})
	require.NoError(t, err)
	enc := func(md protoreflect.MessageDescriptor, js string) []byte {
		m := dynamicpb.NewMessage(md)
		require.NoError(t, protojson.Unmarshal([]byte(js), m))
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		require.NoError(t, err)
		return b
	}
	order, address := pv.File().Messages().Get(0), pv.File().Messages().Get(1)
	good := enc(order, `{"id": "o-1", "amount": 12.5, "address": {"zip": "75001"}}`)
	badZip := enc(order, `{"id": "o-2", "amount": 1, "address": {"zip": "750"}}`)
	negative := enc(order, `{"id": "o-3", "amount": -1}`)
	addr := enc(address, `{"zip": "10115"}`)
	var serde sr.Serde
	serde.Register(7, &dynamicpb.Message{}, sr.Index(1), sr.EncodeFn(func(v any) ([]byte, error) {
		return proto.Marshal(v.(*dynamicpb.Message))
	}))
	addrMsg := dynamicpb.NewMessage(address)
	require.NoError(t, proto.Unmarshal(addr, addrMsg))
	framedAddr, err := serde.Encode(addrMsg)
	require.NoError(t, err)
	delimited := func(records ...[]byte) []byte {
		var b []byte
		for _, r := range records {
			b = binary.AppendUvarint(b, uint64(len(r)))
			b = append(b, r...)
		}
		return b
	}
	goodFile := writeFile(t, dir, "good.bin", string(good))
	badZipFile := writeFile(t, dir, "zip.bin", string(badZip))
	truncFile := writeFile(t, dir, "trunc.bin", string(good[:len(good)-3]))
	addrFile := writeFile(t, dir, "addr.bin", string(addr))
	framedFile := writeFile(t, dir, "framed.bin", string(framedAddr))
	streamFile := writeFile(t, dir, "stream.bin", string(delimited(good, negative, badZip)))

	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrHas string
	}{
		{"one record per file", []string{goodFile}, 0, goodFile + ": valid\n", "1 records: 1 valid, 0 invalid"},
		{
			"a protovalidate violation at its field",
			[]string{goodFile, badZipFile},
			1,
			goodFile + ": valid\n" + badZipFile + ": invalid: PATTERN_MISMATCH at /address/zip: does not match regex pattern `^[0-9]{5}$`\n", "",
		},
		{"truncated record", []string{truncFile}, 1, truncFile + ": invalid: DECODE_ERROR at /address", ""},
		{"--message picks the type", []string{"--message", "shop.Address", addrFile}, 0, addrFile + ": valid\n", ""},
		{"unknown --message", []string{"--message", "shop.Nope", addrFile}, 2, "", "no message shop.Nope"},
		{"--wire: the message indexes pick the type", []string{"--wire", framedFile}, 0, framedFile + ": valid\n", ""},
		{"--wire wants the header", []string{"--wire", goodFile}, 1, goodFile + ": invalid: DECODE_ERROR at (record): no Confluent wire header", ""},
		{
			"length-delimited stream with rules",
			[]string{"--length-delimited", "--rules", rulesFile, streamFile},
			1,
			streamFile + " record 1: valid\n" +
				streamFile + " record 2: invalid: RULE_VIOLATION at /amount: failed rule positive: message.amount > 0.0\n" +
				streamFile + " record 3: invalid: PATTERN_MISMATCH at /address/zip: does not match regex pattern `^[0-9]{5}$`\n",
			"3 records: 1 valid, 2 invalid",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"validate", "--type", "protobuf", "--schema", schemaFile}, c.args...)
			code, out, errOut := runCLI(t, "", nil, args...)
			require.Equal(t, c.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			if strings.HasSuffix(c.wantOut, "\n") {
				require.Equal(t, c.wantOut, out)
			} else {
				require.Contains(t, out, c.wantOut)
			}
			require.Contains(t, errOut, c.wantErrHas)
		})
	}
}
