package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseS3URL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		want      S3URL
		wantErr   string
	}{
		{"bucket alone: AWS over HTTPS", "s3://dq-payloads", S3URL{Bucket: "dq-payloads", Endpoint: DefaultS3Endpoint, Secure: true}, ""},
		{"MinIO", "s3://dq-payloads?endpoint=minio:9000&secure=false", S3URL{Bucket: "dq-payloads", Endpoint: "minio:9000"}, ""},
		{
			"every parameter", "s3://b.1-x?region=eu-west-1&secure=true&endpoint=s3.eu-west-1.amazonaws.com",
			S3URL{Bucket: "b.1-x", Endpoint: "s3.eu-west-1.amazonaws.com", Secure: true, Region: "eu-west-1"},
			"",
		},
		{"IPv6 endpoint", "s3://bkt?endpoint=[::1]:9000", S3URL{Bucket: "bkt", Endpoint: "[::1]:9000", Secure: true}, ""},
		{"trailing slash", "s3://bkt/", S3URL{}, "s3://BUCKET takes no path after the bucket name"},
		{"no bucket", "s3://?endpoint=minio:9000", S3URL{}, `bucket name "" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`},
		{"upper case bucket", "s3://Payloads", S3URL{}, `bucket name "Payloads" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`},
		{"short bucket", "s3://ab", S3URL{}, `bucket name "ab" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`},
		{"bucket ending in a dash", "s3://abc-", S3URL{}, `bucket name "abc-" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`},
		{"bucket with two dots", "s3://a..b", S3URL{}, `bucket name "a..b" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`},
		{"credentials", "s3://AKIA:hunter2@bkt?endpoint=minio:9000", S3URL{}, "credentials do not belong in the URL: set storage.payloads.access_key and secret_key"},
		{"credentials in the query", "s3://bkt?secret_key=hunter2", S3URL{}, `unknown parameter "secret_key" (want endpoint, secure or region)`},
		{"unknown parameter", "s3://bkt?endpont=minio:9000", S3URL{}, `unknown parameter "endpont" (want endpoint, secure or region)`},
		{"repeated parameter", "s3://bkt?secure=false&secure=true", S3URL{}, "parameter secure is given 2 times"},
		{"bad secure", "s3://bkt?secure=maybe", S3URL{}, `secure: want true or false, got "maybe"`},
		{"endpoint with a scheme", "s3://bkt?endpoint=http://minio:9000", S3URL{}, `endpoint "http://minio:9000": want HOST or HOST:PORT, without a scheme (secure=false for plain HTTP)`},
		{"empty endpoint", "s3://bkt?endpoint=", S3URL{}, `endpoint "": want HOST or HOST:PORT, without a scheme (secure=false for plain HTTP)`},
		{"bad port", "s3://bkt?endpoint=minio:99999", S3URL{}, `endpoint "minio:99999": want HOST or HOST:PORT, the port 1 to 65535`},
		{"malformed query", "s3://bkt?endpoint=%zz", S3URL{}, "malformed query after s3://BUCKET? (want endpoint=HOST:PORT&secure=BOOL&region=REGION)"},
		{"not s3", "file:///x", S3URL{}, `unsupported scheme "file" (want s3://BUCKET)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseS3URL(tt.url)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "hunter2", "errors never repeat credentials")
				require.NotContains(t, err.Error(), "AKIA")
				if strings.HasPrefix(tt.url, "s3://") {
					_, err = ParsePayloadsURL(tt.url)
					require.EqualError(t, err, tt.wantErr, "ParsePayloadsURL checks s3 URLs in full")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://dq:hunter2@db:5432/dq?sslmode=verify-full": "postgres://dq:xxxxx@db:5432/dq?sslmode=verify-full",
		"postgresql://dq@db/dq":                                "postgresql://dq@db/dq",
		"postgres://db/dq?user=dq&password=hunter2&x=1":        "postgres://db/dq?user=dq&password=xxxxx&x=1",
		"postgres://db/dq?sslpassword=hunter2":                 "postgres://db/dq?sslpassword=xxxxx",
		"postgres://dq:hun/ter2@db/dq":                         "postgres://xxxxx@db/dq",
		"postgres://dq:hunter2@host:5432,host2:5432/dq":        "postgres://dq:xxxxx@host:5432,host2:5432/dq",
		"postgres://dq:p@ss:hunter2@db/dq":                     "postgres://dq:xxxxx@db/dq",
		"sqlite:///var/lib/dq/dq.db":                           "sqlite:///var/lib/dq/dq.db",
		"s3://bucket?endpoint=minio:9000&secure=false":         "s3://bucket?endpoint=minio:9000&secure=false",
		"file://data/payloads":                                 "file://data/payloads",
		"no scheme at all":                                     "no scheme at all",
	} {
		got := RedactURL(in)
		require.Equal(t, want, got, in)
		require.NotContains(t, got, "hunter2")
		require.NotContains(t, got, "ter2")
	}
}

// TestErrorsNeverEchoSecrets: the bad configs that hold credentials (the
// password "hunter2" and the access key "AKIAEXAMPLE", in URLs and in the
// key fields, well-formed or not) never get them back in an error.
func TestErrorsNeverEchoSecrets(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		if !strings.Contains(string(data), "hunter2") {
			continue
		}
		checked++
		c, err := Load(f, nil)
		if err == nil {
			err = c.Validate()
		}
		require.Error(t, err, f)
		require.NotContains(t, err.Error(), "hunter2", f)
		require.NotContains(t, err.Error(), "AKIAEXAMPLE", f)
	}
	require.NotZero(t, checked)

	// The same through the environment.
	c, err := Load("", []string{
		"DQ_STORAGE_METADATA_URL=mysql://dq:hunter2@db/dq",
		"DQ_STORAGE_PAYLOADS_URL=s3://AKIAEXAMPLE:hunter2@bucket",
		"DQ_STORAGE_PAYLOADS_ACCESS_KEY=AKIAEXAMPLE",
		"DQ_STORAGE_PAYLOADS_SECRET_KEY=hunter2",
	})
	require.NoError(t, err)
	err = c.Validate()
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
	require.NotContains(t, err.Error(), "AKIAEXAMPLE")
}
