package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The storage URL schemes supported now. postgres:// (metadata) and s3://
// (payloads) are recognised and refused as not supported yet.
const (
	SchemeSQLite = "sqlite"
	SchemeFile   = "file"
)

// MetadataURL is the effective metadata store URL: storage.metadata.url, or
// when that is empty the SQLite file dq.db in the data directory,
// sqlite://<data_dir>/dq.db (sqlite://data/dq.db for the default ./data;
// sqlite:///var/lib/dq/dq.db for /var/lib/dq).
func (c *Config) MetadataURL() string {
	if c.Storage.Metadata.URL != "" {
		return c.Storage.Metadata.URL
	}
	return SchemeSQLite + "://" + filepath.Join(c.DataDir, "dq.db")
}

// PayloadsURL is the effective payload store URL: storage.payloads.url, or
// when that is empty the directory payloads in the data directory,
// file://<data_dir>/payloads.
func (c *Config) PayloadsURL() string {
	if c.Storage.Payloads.URL != "" {
		return c.Storage.Payloads.URL
	}
	return SchemeFile + "://" + filepath.Join(c.DataDir, "payloads")
}

// StoreURL is a parsed storage URL: scheme://path.
type StoreURL struct {
	// Scheme is the part before "://", lower-cased: "sqlite", "file".
	Scheme string
	// Path is everything after "://", used as given: sqlite:///abs/dq.db has
	// the absolute path /abs/dq.db, sqlite://rel/dq.db the path rel/dq.db,
	// relative to the working directory.
	Path string
}

// ParseStoreURL splits a storage URL into scheme and path, whatever the
// scheme. Errors never repeat the URL, which may one day carry a password.
func ParseStoreURL(u string) (StoreURL, error) {
	scheme, path, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return StoreURL{}, errors.New("missing scheme (want SCHEME://PATH)")
	}
	if !validScheme(scheme) {
		// Not echoed: what precedes "://" here may be a mistyped credential.
		return StoreURL{}, errors.New("invalid scheme (want SCHEME://PATH, a scheme being a letter and then letters, digits, '+', '-' or '.')")
	}
	scheme = strings.ToLower(scheme)
	if path == "" {
		return StoreURL{}, fmt.Errorf("missing path after %s://", scheme)
	}
	return StoreURL{Scheme: scheme, Path: path}, nil
}

// validScheme applies RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// ParseMetadataURL parses a metadata store URL and checks that its scheme is
// supported: sqlite:// only for now (postgres:// is refused as not supported
// yet).
func ParseMetadataURL(u string) (StoreURL, error) {
	return parseStoreURL(u, SchemeSQLite, "postgres", "postgresql")
}

// ParsePayloadsURL parses a payload store URL, a directory, and checks that
// its scheme is supported: file:// only for now (s3:// is refused as not
// supported yet).
func ParsePayloadsURL(u string) (StoreURL, error) {
	return parseStoreURL(u, SchemeFile, "s3")
}

func parseStoreURL(u, want string, later ...string) (StoreURL, error) {
	if strings.Index(u, "://") <= 0 {
		return StoreURL{}, fmt.Errorf("missing scheme (want %s://PATH)", want)
	}
	su, err := ParseStoreURL(u)
	if err != nil {
		return StoreURL{}, err
	}
	for _, l := range later {
		if su.Scheme == l {
			return StoreURL{}, fmt.Errorf("scheme %s is not supported yet (want %s://)", quoteValue(su.Scheme), want)
		}
	}
	if su.Scheme != want {
		return StoreURL{}, fmt.Errorf("unsupported scheme %s (want %s://)", quoteValue(su.Scheme), want)
	}
	return su, nil
}

// maxSchemaFileBytes bounds a schema file: a larger one is a mistake (a data
// file named by accident), not a schema.
const maxSchemaFileBytes = 16 << 20

// SchemaSource returns the schema document of Schemas[i], from its inline
// text or its file. Errors do not name the key: the caller wraps them with
// "schemas[i]".
func (c *Config) SchemaSource(i int) ([]byte, error) {
	if i < 0 || i >= len(c.Schemas) {
		return nil, fmt.Errorf("schema index %d out of range (%d schemas configured)", i, len(c.Schemas))
	}
	s := c.Schemas[i]
	switch {
	case s.File != "" && s.Schema != "":
		return nil, errors.New("both file and schema are set")
	case s.Schema != "":
		return []byte(s.Schema), nil
	case s.File != "":
		data, err := readSchemaFile(c.schemaPath(s.File))
		if err != nil {
			return nil, fmt.Errorf("reading schema file: %w", err)
		}
		return data, nil
	default:
		return nil, errors.New("neither file nor schema is set")
	}
}

// schemaPath resolves a schema file path against the config file's directory.
func (c *Config) schemaPath(file string) string {
	if filepath.IsAbs(file) || c.dir == "" {
		return file
	}
	return filepath.Join(c.dir, file)
}

// readSchemaFile reads a schema file, refusing what is not a regular file (a
// FIFO or a device would block or never end) and what is too large.
func readSchemaFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
	data, err := io.ReadAll(io.LimitReader(f, maxSchemaFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxSchemaFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSchemaFileBytes)
	}
	return data, nil
}

// errNotExist reports whether err means the file does not exist.
func errNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
