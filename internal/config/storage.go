package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The storage URL schemes: sqlite:// and postgres:// (or postgresql://) for
// metadata, file:// and s3:// for payloads.
const (
	SchemeSQLite     = "sqlite"
	SchemePostgres   = "postgres"
	SchemePostgreSQL = "postgresql"
	SchemeFile       = "file"
	SchemeS3         = "s3"
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
// supported: sqlite://PATH, or postgres:// (postgresql://) for PostgreSQL,
// whose URL is left for the driver to parse (Path is everything after
// "://").
func ParseMetadataURL(u string) (StoreURL, error) {
	return parseStoreURL(u, "sqlite://PATH or postgres://HOST/DB", SchemeSQLite, SchemePostgres, SchemePostgreSQL)
}

// ParsePayloadsURL parses a payload store URL and checks that its scheme is
// supported: file://PATH (a directory), or s3://BUCKET?... (see ParseS3URL),
// which it checks in full.
func ParsePayloadsURL(u string) (StoreURL, error) {
	su, err := parseStoreURL(u, "file://PATH or s3://BUCKET", SchemeFile, SchemeS3)
	if err != nil {
		return StoreURL{}, err
	}
	if su.Scheme == SchemeS3 {
		if _, err := ParseS3URL(u); err != nil {
			return StoreURL{}, err
		}
	}
	return su, nil
}

// parseStoreURL parses u and checks that its scheme is one of schemes; want
// shows the accepted forms in errors.
func parseStoreURL(u, want string, schemes ...string) (StoreURL, error) {
	if strings.Index(u, "://") <= 0 {
		return StoreURL{}, fmt.Errorf("missing scheme (want %s)", want)
	}
	su, err := ParseStoreURL(u)
	if err != nil {
		return StoreURL{}, err
	}
	if !slices.Contains(schemes, su.Scheme) {
		return StoreURL{}, fmt.Errorf("unsupported scheme %s (want %s)", quoteValue(su.Scheme), want)
	}
	return su, nil
}

// DefaultS3Endpoint is the endpoint of an s3:// URL that names none: AWS S3.
const DefaultS3Endpoint = "s3.amazonaws.com"

// S3URL is a parsed payload store URL of the s3 scheme:
//
//	s3://BUCKET?endpoint=HOST:PORT&secure=BOOL&region=REGION
//
// Credentials are not part of it: they are storage.payloads.access_key and
// secret_key, so that the URL can be shown and logged.
type S3URL struct {
	// Bucket holds the payload segments.
	Bucket string
	// Endpoint is the service's host[:port]. Default DefaultS3Endpoint.
	Endpoint string
	// Secure selects HTTPS. Default true; secure=false for plain HTTP.
	Secure bool
	// Region is the bucket's region. Default "": asked of the service.
	Region string
}

// ParseS3URL parses an s3:// payload store URL. Its errors quote no more of
// the URL than the part at fault, and never what looks like credentials.
func ParseS3URL(u string) (S3URL, error) {
	su, err := ParseStoreURL(u)
	if err != nil {
		return S3URL{}, err
	}
	if su.Scheme != SchemeS3 {
		return S3URL{}, fmt.Errorf("unsupported scheme %s (want s3://BUCKET)", quoteValue(su.Scheme))
	}
	bucket, query, _ := strings.Cut(su.Path, "?")
	switch {
	case strings.Contains(bucket, "@"):
		return S3URL{}, errors.New("credentials do not belong in the URL: set storage.payloads.access_key and secret_key")
	case strings.Contains(bucket, "/"):
		return S3URL{}, errors.New("s3://BUCKET takes no path after the bucket name")
	case !validBucketName(bucket):
		return S3URL{}, fmt.Errorf("bucket name %s is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit", quoteValue(bucket))
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return S3URL{}, errors.New("malformed query after s3://BUCKET? (want endpoint=HOST:PORT&secure=BOOL&region=REGION)")
	}
	names := slices.Sorted(maps.Keys(params))
	for _, name := range names {
		switch {
		case name != "endpoint" && name != "secure" && name != "region":
			return S3URL{}, fmt.Errorf("unknown parameter %s (want endpoint, secure or region)", quoteValue(name))
		case len(params[name]) > 1:
			return S3URL{}, fmt.Errorf("parameter %s is given %d times", name, len(params[name]))
		}
	}
	loc := S3URL{Bucket: bucket, Endpoint: DefaultS3Endpoint, Secure: true, Region: params.Get("region")}
	if params.Has("endpoint") {
		loc.Endpoint = params.Get("endpoint")
		if err := checkEndpoint(loc.Endpoint); err != nil {
			return S3URL{}, err
		}
	}
	if params.Has("secure") {
		loc.Secure, err = strconv.ParseBool(params.Get("secure"))
		if err != nil {
			return S3URL{}, fmt.Errorf("secure: want true or false, got %s", quoteValue(params.Get("secure")))
		}
	}
	return loc, nil
}

// validBucketName applies S3's rules for new buckets, less the rarer ones
// (no IP-address names, no "xn--" prefix) the service enforces itself.
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' && c != '.' || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return !strings.Contains(b, "..")
}

// checkEndpoint checks an S3 endpoint: host or host:port, no scheme, no path.
func checkEndpoint(e string) error {
	if e == "" || strings.Contains(e, "://") || strings.ContainsAny(e, "/@ ") {
		return fmt.Errorf("endpoint %s: want HOST or HOST:PORT, without a scheme (secure=false for plain HTTP)", quoteValue(e))
	}
	if host, port, err := net.SplitHostPort(e); err == nil {
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("endpoint %s: want HOST or HOST:PORT, the port 1 to 65535", quoteValue(e))
		}
	}
	return nil
}

// RedactURL returns a storage URL fit to show or log: a password in it (in
// the user information or a password or sslpassword parameter) is replaced
// by xxxxx. A URL too malformed to tell where its password ends loses all it
// might contain: everything from "://" to the last '@'.
func RedactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	switch at := strings.LastIndex(authority, "@"); {
	case at >= 0:
		if user, _, hasPass := strings.Cut(authority[:at], ":"); hasPass {
			authority = user + ":xxxxx" + authority[at:]
		}
	case strings.Contains(tail, "@"):
		// An '@' past the first '/', '?' or '#': perhaps a password holding
		// one of them, unescaped. Keep nothing of it.
		authority, tail = "xxxxx", tail[strings.LastIndex(tail, "@"):]
	}
	if q := strings.Index(tail, "?"); q >= 0 {
		params := strings.Split(tail[q+1:], "&")
		for i, p := range params {
			name, _, _ := strings.Cut(p, "=")
			if n, err := url.QueryUnescape(name); err == nil && (strings.EqualFold(n, "password") || strings.EqualFold(n, "sslpassword")) {
				params[i] = name + "=xxxxx"
			}
		}
		tail = tail[:q+1] + strings.Join(params, "&")
	}
	return scheme + "://" + authority + tail
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
func (c *Config) schemaPath(file string) string { return c.relPath(file) }

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
