package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSchemaDiffCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	long := writeFile(t, dir, "long.json", `{"type":"string","maxLength":10}`)
	short := writeFile(t, dir, "short.json", `{"type":"string","maxLength":5,"title":"code"}`)
	broken := writeFile(t, dir, "broken.json", `{"type":"strnig"}`)
	v1 := writeFile(t, dir, "v1.avsc", `{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}`)
	v2 := writeFile(t, dir, "v2.avsc", `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}`)
	v2json := writeFile(t, dir, "v2-avro.json", `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}`)
	missing := filepath.Join(dir, "nope.json")
	p1 := writeFile(t, dir, "p1.proto", `syntax = "proto3"; package p; message M { string id = 1; }`)
	p2 := writeFile(t, dir, "p2.proto", `syntax = "proto3"; package p; message M { int64 id = 1; }`)

	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string // substrings of stdout, in order
		wantNotOut string
		wantErrHas string
	}{
		{
			"compatible change",
			[]string{"--old", short, "--new", long},
			0,
			[]string{"compatible (BACKWARD): " + long + " may follow " + short + "\n"},
			"MAX_LENGTH", "",
		},
		{
			"incompatible change explained",
			[]string{"--old", long, "--new", short},
			1,
			[]string{
				"maxLength lowered from 10 to 5 at the top level: readers on the new version reject strings longer than 5 [MAX_LENGTH_DECREASED at #/maxLength]\n",
				"incompatible (BACKWARD): 1 breaking change\n",
			},
			"TITLE_CHANGED", "",
		},
		{
			"protobuf by extension",
			[]string{"--old", p1, "--new", p2},
			1,
			[]string{"field kind changed at /p.M/id: field number 1 (string) in the old version is read as int64 by the new version, another wire encoding [FIELD_KIND_CHANGED at /p.M/id]\n"},
			"", "",
		},
		{"forward is the other way", []string{"--old", long, "--new", short, "--mode", "FORWARD"}, 0, []string{"compatible (FORWARD)"}, "", ""},
		{
			"full is both ways",
			[]string{"--old", long, "--new", short, "--mode", "full"},
			1,
			[]string{"[MAX_LENGTH_DECREASED at #/maxLength]", "incompatible (FULL): 1 breaking change"},
			"", "",
		},
		{"transitive with one old schema", []string{"--old", long, "--new", short, "--mode", "BACKWARD_TRANSITIVE"}, 1, []string{"incompatible (BACKWARD_TRANSITIVE)"}, "", ""},
		{"none checks nothing", []string{"--old", long, "--new", short, "--mode", "NONE"}, 0, []string{"compatible (NONE)"}, "", ""},
		{
			"all prints compatible changes too",
			[]string{"--old", long, "--new", short, "--all"},
			1,
			[]string{"title 'code' added at the top level: documents are unaffected [TITLE_CHANGED at #/] (compatible)\n", "incompatible"},
			"", "",
		},
		{
			"avro by extension",
			[]string{"--old", v1, "--new", v2},
			1,
			[]string{
				"field /email added without a default: readers on the new version cannot read data the old version wrote without it [READER_FIELD_MISSING_DEFAULT_VALUE at /fields/email]\n",
				"incompatible (BACKWARD): 1 breaking change\n",
			},
			"", "",
		},
		{"avro forward drops a field", []string{"--old", v1, "--new", v2, "--mode", "FORWARD"}, 0, []string{"compatible (FORWARD)"}, "", ""},
		{"avro by --type", []string{"--old", v1, "--new", v2json, "--type", "avro"}, 0, []string{"compatible (BACKWARD)"}, "", ""},
		{"json schema refuses an avro schema", []string{"--old", v1, "--new", v2json, "--type", "json"}, 2, nil, "", `unknown type "record"`},
		{"missing --new", []string{"--old", long}, 2, nil, "", "--old and --new are required"},
		{"unreadable file", []string{"--old", missing, "--new", long}, 2, nil, "", "reading schema"},
		{"unparsable schema names its file", []string{"--old", long, "--new", broken}, 2, nil, "", broken + `: invalid JSON schema: at #/type: unknown type "strnig"`},
		{"bad mode", []string{"--old", long, "--new", short, "--mode", "SIDEWAYS"}, 2, nil, "", "unknown compatibility mode"},
		{"bad type", []string{"--old", long, "--new", short, "--type", "xml"}, 2, nil, "", `unknown schema type "xml"`},
		{"stray argument", []string{"--old", long, "--new", short, "extra"}, 2, nil, "", `unexpected argument "extra"`},
		{"unknown flag", []string{"--old", long, "--nope"}, 2, nil, "", "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, "", nil, append([]string{"schema", "diff"}, tc.args...)...)
			require.Equal(t, tc.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			rest := out
			for _, want := range tc.wantOut {
				i := strings.Index(rest, want)
				require.GreaterOrEqual(t, i, 0, "stdout lacks %q (in order):\n%s", want, out)
				rest = rest[i+len(want):]
			}
			if tc.wantNotOut != "" {
				require.NotContains(t, out, tc.wantNotOut)
			}
			if tc.wantErrHas != "" {
				require.Contains(t, errOut, tc.wantErrHas)
			} else {
				require.Empty(t, errOut)
			}
		})
	}
}

func TestSchemaSubcommands(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"help lists the subcommands", []string{"schema", "--help"}, 0, "Usage:\n  dataquarantine schema <subcommand>", ""},
		{"help names diff", []string{"schema", "help"}, 0, "  diff ", ""},
		{"diff help", []string{"schema", "diff", "--help"}, 0, "Usage:\n  dataquarantine schema diff --old FILE --new FILE", ""},
		{"diff help documents its flags", []string{"schema", "diff", "-h"}, 0, "-mode mode", ""},
		{"no subcommand", []string{"schema"}, 2, "", "Usage:\n  dataquarantine schema <subcommand>"},
		{"unknown subcommand", []string{"schema", "frobnicate"}, 2, "", `schema: unknown subcommand "frobnicate"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, "", nil, tc.args...)
			require.Equal(t, tc.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			if tc.wantOut != "" {
				require.Contains(t, out, tc.wantOut)
			}
			if tc.wantErr != "" {
				require.Contains(t, errOut, tc.wantErr)
			} else {
				require.Empty(t, errOut)
			}
		})
	}
}
