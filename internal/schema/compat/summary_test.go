package compat

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// TestSummaries: each change is said in its user's terms first, from the
// old version to the new, at the place in the documents, with what it does
// to the reader; the path is the user's schema's, not the normal form's.
func TestSummaries(t *testing.T) {
	t.Parallel()
	userEvent, err := os.ReadFile("../../config/defaults/user_event.schema.json")
	require.NoError(t, err)
	v1 := string(userEvent)
	scroll := strings.Replace(v1, `"enum": ["view", "click", "purchase"]`, `"enum": ["view", "click", "purchase", "scroll"]`, 1)
	require.NotEqual(t, v1, scroll)
	noPurchase := strings.Replace(v1, `"enum": ["view", "click", "purchase"]`, `"enum": ["view", "click"]`, 1)
	country := strings.Replace(v1, `"required": ["user_id", "event_type", "timestamp"]`,
		`"required": ["user_id", "event_type", "timestamp", "country"]`, 1)
	country = strings.Replace(country, `"properties": {`, `"properties": {
    "country": {"type": "string"},`, 1)
	shorter := strings.Replace(v1, `"pattern": "^USER[0-9]{6}$"`, `"pattern": "^USER[0-9]{6}$", "maxLength": 8`, 1)

	type want struct {
		kind, summary, field, schemaPath string
		dir                              Direction
	}
	cases := []struct {
		name      string
		format    schema.Format
		mode      Mode
		old, new  string
		breaking  []want
		otherwise []want // the compatible changes
	}{
		{
			"an enum value added breaks FORWARD", schema.FormatJSON, Forward, v1, scroll,
			[]want{{
				"COMBINED_TYPE_SUBSCHEMAS_CHANGED",
				"enum value 'scroll' added at /event_type: readers on the old version reject it",
				"/event_type", "#/properties/event_type/enum", DirForward,
			}},
			nil,
		},
		{
			"and not BACKWARD", schema.FormatJSON, Backward, v1, scroll, nil,
			[]want{{
				"ENUM_ARRAY_EXTENDED",
				"enum value 'scroll' added at /event_type: readers on the new version still accept every document the old version allows",
				"/event_type", "#/properties/event_type/enum", DirBackward,
			}},
		},
		{
			"an enum value removed breaks BACKWARD", schema.FormatJSON, Backward, v1, noPurchase,
			[]want{{
				"COMBINED_TYPE_SUBSCHEMAS_CHANGED",
				"enum value 'purchase' removed at /event_type: readers on the new version reject it",
				"/event_type", "#/properties/event_type/enum", DirBackward,
			}},
			nil,
		},
		{
			"a required property added", schema.FormatJSON, Backward, v1, country,
			[]want{{
				"REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
				"property /country added (required): readers on the new version reject documents without it",
				"/country", "#/properties/country", DirBackward,
			}},
			nil,
		},
		{
			"a bound lowered, FULL: breaking one way", schema.FormatJSON, Full, v1, shorter,
			[]want{{
				"MAX_LENGTH_ADDED",
				"maxLength 8 added at /user_id: readers on the new version reject strings longer than 8",
				"/user_id", "#/properties/user_id/maxLength", DirBackward,
			}},
			[]want{{
				"MAX_LENGTH_REMOVED",
				"maxLength 8 added at /user_id: readers on the old version still accept every document the new version allows",
				"/user_id", "#/properties/user_id/maxLength", DirForward,
			}},
		},
		{
			"paths are escaped, items are *", schema.FormatJSON, Backward,
			`{"type":"object","properties":{"a/b":{"type":"array","items":{"type":"string"}}}}`,
			`{"type":"object","properties":{"a/b":{"type":"array","items":{"type":"integer"}}}}`,
			[]want{{
				"TYPE_CHANGED", "type changed from string to number at /a~1b/*: readers on the new version reject string values",
				"/a~1b/*", "#/properties/a~1b/items", DirBackward,
			}},
			nil,
		},
		{
			"Avro: a symbol added breaks FORWARD", schema.FormatAvro, Forward,
			`{"type":"record","name":"E","fields":[{"name":"kind","type":{"type":"enum","name":"K","symbols":["VIEW","CLICK"]}}]}`,
			`{"type":"record","name":"E","fields":[{"name":"kind","type":{"type":"enum","name":"K","symbols":["VIEW","CLICK","SCROLL"]}}]}`,
			[]want{{
				"MISSING_ENUM_SYMBOLS",
				"enum symbols [SCROLL] added at /kind: readers on the old version cannot read them: their enum has no default",
				"/kind", "/fields/kind", DirForward,
			}},
			nil,
		},
		{
			"Avro: a field added without a default breaks BACKWARD", schema.FormatAvro, Backward,
			`{"type":"record","name":"E","fields":[{"name":"a","type":"string"}]}`,
			`{"type":"record","name":"E","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}`,
			[]want{{
				"READER_FIELD_MISSING_DEFAULT_VALUE",
				"field /b added without a default: readers on the new version cannot read data the old version wrote without it",
				"/b", "/fields/b", DirBackward,
			}},
			nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Check(tc.format, tc.mode, []byte(tc.new), [][]byte{[]byte(tc.old)})
			require.NoError(t, err)
			var breaking, otherwise []want
			for _, c := range res.Changes {
				w := want{c.Kind, c.Summary, c.Field, c.SchemaPath, c.Direction}
				if c.Breaking {
					breaking = append(breaking, w)
				} else {
					otherwise = append(otherwise, w)
				}
			}
			require.Equal(t, tc.breaking, breaking)
			require.Equal(t, tc.otherwise, otherwise)
		})
	}
}

func TestModeChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode              Mode
		backward, forward bool
	}{
		{Backward, true, false},
		{BackwardTransitive, true, false},
		{Forward, false, true},
		{ForwardTransitive, false, true},
		{Full, true, true},
		{FullTransitive, true, true},
		{None, false, false},
		{"SIDEWAYS", false, false},
	} {
		require.Equal(t, tc.backward, tc.mode.Checks(DirBackward), tc.mode)
		require.Equal(t, tc.forward, tc.mode.Checks(DirForward), tc.mode)
	}
}
