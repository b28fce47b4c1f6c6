package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// A token's value never shows: not formatted, not marshalled, not in the
// errors of a bad token list.
func TestTokenNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-0123456789abcdef"
	c := Default()
	c.HTTP.Auth.Tokens = []Token{{Name: "ci", Role: RoleOperator, Token: secret}}
	for name, s := range map[string]string{
		"%v":  fmt.Sprintf("%v", c),
		"%+v": fmt.Sprintf("%+v", c),
		"%#v": fmt.Sprintf("%#v", c),
		"%s":  fmt.Sprint(c.HTTP.Auth.Tokens[0].Token),
	} {
		require.NotContains(t, s, secret, name)
	}
	j, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(j), secret)
	y, err := yaml.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(y), secret)
	require.Contains(t, string(y), "token: xxxxx")

	bad, err := Load(filepath.Join("testdata", "auth_tokens.bad.yaml"), nil)
	require.NoError(t, err)
	verr := bad.Validate()
	require.Error(t, verr)
	for _, tok := range bad.HTTP.Auth.Tokens {
		if tok.Token != "" {
			require.NotContains(t, verr.Error(), string(tok.Token))
		}
	}
}

func TestTokenValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t"), []byte("  file-token-0123456789\n"), 0o600))
	path := filepath.Join(dir, "dq.yaml")
	require.NoError(t, os.WriteFile(path, []byte("http:\n  auth:\n    tokens: [{name: a, token_file: t}, {name: b, role: admin, token: inline-token-0123456789}]\n"), 0o600))
	c, err := Load(path, nil)
	require.NoError(t, err)
	require.NoError(t, c.Validate())
	require.True(t, c.AuthEnabled())
	require.Equal(t, RoleViewer, c.HTTP.Auth.Tokens[0].Role, "the default role is the least powerful")
	v, err := c.TokenValue(0)
	require.NoError(t, err)
	require.Equal(t, "file-token-0123456789", v)
	v, err = c.TokenValue(1)
	require.NoError(t, err)
	require.Equal(t, "inline-token-0123456789", v)
	_, err = c.TokenValue(2)
	require.Error(t, err)
}

func TestIsLoopbackListen(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:0": true, "[::1]:8080": true, "localhost:8080": true, "LOCALHOST:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "10.0.0.5:8080": false, "example.com:80": false,
		"[fe80::1]:8080": false,
	} {
		require.Equal(t, want, IsLoopbackListen(addr), addr)
	}
}
