package pgdb

import (
	"errors"
	"fmt"
	neturl "net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ParseURL parses a postgres:// URL (or a keyword/value string) into a
// pool config. Its errors never repeat the URL, which holds a password.
func ParseURL(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing the PostgreSQL URL: %s", redactParseError(err))
	}
	return cfg, nil
}

// redactParseError says what is wrong with a connection string without
// quoting it: pgx's message quotes the string with the password masked as
// well as it can, which for a malformed string is a best effort, and the
// net/url error under it quotes the string raw.
func redactParseError(err error) string {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return "not a valid connection string"
	}
	text := pe.Error()
	nested := pe.Unwrap()
	if nested != nil {
		text = strings.TrimSuffix(text, " ("+nested.Error()+")")
	}
	// text is "cannot parse `<string>`: <what>", <what> being pgx's own
	// constant wording.
	i := strings.LastIndex(text, "`: ")
	if i < 0 {
		return "not a valid connection string"
	}
	msg := text[i+len("`: "):]
	var ue *neturl.Error
	switch {
	case nested == nil:
	case errors.As(nested, &ue):
		// Even the inner error may quote a piece of the password
		// (invalid URL escape "%zz").
		msg += " (not a valid URL)"
	default:
		msg += " (" + nested.Error() + ")" // a parameter's value, as strconv words it
	}
	return msg
}
