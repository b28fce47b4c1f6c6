package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// The schema subcommands that talk to a running gateway's registry: its
// Confluent-compatible API under /registry, and the rollout-state call of
// /api/v1.
func init() {
	schemaCommands = append(schemaCommands,
		command{"register", "register a schema file as the next version of a subject (refused when incompatible)", runSchemaRegister},
		command{"check", "check a schema file against a subject's latest version, as register would", runSchemaCheck},
		command{"list", "list subjects and their versions", runSchemaList},
		command{"get", "print one version of a subject (default: latest)", runSchemaGet},
		command{"delete", "delete a subject or one version (soft; --permanent after a soft delete)", runSchemaDelete},
		command{"state", "set a version's rollout state: registered, shadow, enforced or deprecated", runSchemaState},
	)
}

const registryHelp = `
Talks to a running gateway's schema registry (the Confluent-compatible API
under /registry), so it works against any gateway you can reach with
--server (or $DQ_SERVER).`

func serverFlag(fs *flagSet) *string {
	server := "http://127.0.0.1:8080"
	if v := envValue(fs.env.Environ, serverEnv); v != "" {
		server = v
	}
	return fs.String("server", server, "the gateway's HTTP `URL`; $"+serverEnv+" sets the default")
}

// schemaBody reads a schema file for registration: its text and type.
func schemaBody(path, typ string) (map[string]any, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := diffFormat(typ, path, path)
	if err != nil {
		return nil, err
	}
	return map[string]any{"schemaType": string(t), "schema": string(src)}, nil
}

func subjectPath(subject string) string { return "/registry/subjects/" + url.PathEscape(subject) }

func runSchemaRegister(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema register", "SUBJECT FILE [--type json|avro|protobuf] [--rules FILE] [--server URL] [--token TOKEN]",
		"Register FILE as the next version of SUBJECT. The registry checks it against the subject's\ncompatibility mode first and refuses an incompatible schema, explaining why (exit 1).\nRegistering a schema already there (with the same rules) returns its id. --rules stores\nbusiness rules with the version, as a data-contract ruleSet (docs/rules.md)."+registryHelp)
	gw := gatewayFlags(fs)
	typ := fs.String("type", "", "schema `type`, json, avro or protobuf (default: avro for .avsc files, protobuf for .proto, else json)")
	rulesPath := fs.String("rules", "", "YAML `file` of business rules, a list of {name, expr, message, field}, bare or under a rules: key (docs/rules.md)")
	fs.exitStatus(`0  registered, or already registered (its version is printed)
1  refused as incompatible (why is printed), or the registry could not be reached or refused it
2  bad flags or arguments, or an unreadable schema or rules file`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(env.Stderr, "schema register: want SUBJECT FILE")
		return exitUsage
	}
	body, err := schemaBody(fs.Arg(1), *typ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "schema register: %v\n", err)
		return exitUsage
	}
	if *rulesPath != "" {
		specs, err := readRules(*rulesPath)
		if err == nil {
			_, err = rules.Compile(specs, rules.Options{}) // the gateway would refuse them too
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "schema register: %s: %v\n", *rulesPath, err)
			return exitUsage
		}
		body["ruleSet"] = registry.RuleSetOf(specs)
	}
	var resp struct {
		ID int `json:"id"`
	}
	if err := gw.call(ctx, http.MethodPost, subjectPath(fs.Arg(0))+"/versions", body, &resp); err != nil {
		fmt.Fprintf(env.Stderr, "schema register: %v\n", err)
		return exitInvalid
	}
	// The id names the text and its rules: its version under SUBJECT is
	// the one registered (or found again).
	var usages []struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	if err := gw.call(ctx, http.MethodGet, fmt.Sprintf("/registry/schemas/ids/%d/versions", resp.ID), nil, &usages); err != nil {
		fmt.Fprintf(env.Stderr, "schema register: registered as id %d, but looking it up failed: %v\n", resp.ID, err)
		return exitInvalid
	}
	version := 0
	for _, u := range usages {
		if u.Subject == fs.Arg(0) {
			version = u.Version
		}
	}
	fmt.Fprintf(env.Stdout, "%s version %d (schema id %d)\n", fs.Arg(0), version, resp.ID)
	return exitOK
}

func runSchemaCheck(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema check", "SUBJECT FILE [--type json|avro|protobuf] [--server URL] [--token TOKEN]",
		"Check FILE against SUBJECT's latest version under the subject's compatibility mode,\nwithout registering it. Exits 0 when compatible, 1 when not (with the reasons)."+registryHelp)
	gw := gatewayFlags(fs)
	typ := fs.String("type", "", "schema `type`, json, avro or protobuf (default: avro for .avsc files, protobuf for .proto, else json)")
	fs.exitStatus(`0  compatible with the subject's latest version
1  incompatible (why is printed), or the registry could not be reached or refused the request
2  bad flags or arguments, or an unreadable schema file`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(env.Stderr, "schema check: want SUBJECT FILE")
		return exitUsage
	}
	body, err := schemaBody(fs.Arg(1), *typ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "schema check: %v\n", err)
		return exitUsage
	}
	var resp struct {
		Compatible bool     `json:"is_compatible"`
		Messages   []string `json:"messages"`
	}
	path := "/registry/compatibility/subjects/" + url.PathEscape(fs.Arg(0)) + "/versions/latest?verbose=true"
	if err := gw.call(ctx, http.MethodPost, path, body, &resp); err != nil {
		fmt.Fprintf(env.Stderr, "schema check: %v\n", err)
		return exitInvalid
	}
	for _, m := range resp.Messages {
		fmt.Fprintln(env.Stdout, m)
	}
	if !resp.Compatible {
		fmt.Fprintf(env.Stdout, "incompatible with the latest version of %s\n", fs.Arg(0))
		return exitInvalid
	}
	fmt.Fprintf(env.Stdout, "compatible with the latest version of %s\n", fs.Arg(0))
	return exitOK
}

func runSchemaList(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema list", "[--server URL] [--token TOKEN]", "List the registry's subjects and their versions."+registryHelp)
	gw := gatewayFlags(fs)
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	var subjects []string
	if err := gw.call(ctx, http.MethodGet, "/registry/subjects", nil, &subjects); err != nil {
		fmt.Fprintf(env.Stderr, "schema list: %v\n", err)
		return exitInvalid
	}
	for _, s := range subjects {
		var versions []int
		if err := gw.call(ctx, http.MethodGet, subjectPath(s)+"/versions", nil, &versions); err != nil {
			fmt.Fprintf(env.Stderr, "schema list: %s: %v\n", s, err)
			return exitInvalid
		}
		fmt.Fprintf(env.Stdout, "%-40s versions %s\n", s, strings.Trim(fmt.Sprint(versions), "[]"))
	}
	return exitOK
}

func runSchemaGet(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema get", "SUBJECT [VERSION|latest] [--server URL] [--token TOKEN]",
		"Print one version of SUBJECT (subject, version, id, type, schema, and its business rules\nas ruleSet when it has some) as JSON."+registryHelp)
	gw := gatewayFlags(fs)
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fmt.Fprintln(env.Stderr, "schema get: want SUBJECT [VERSION]")
		return exitUsage
	}
	version := "latest"
	if fs.NArg() == 2 {
		version = fs.Arg(1)
	}
	var v json.RawMessage
	if err := gw.call(ctx, http.MethodGet, subjectPath(fs.Arg(0))+"/versions/"+url.PathEscape(version), nil, &v); err != nil {
		fmt.Fprintf(env.Stderr, "schema get: %v\n", err)
		return exitInvalid
	}
	return printJSON(env, v)
}

func runSchemaDelete(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema delete", "SUBJECT [VERSION] [--permanent] [--server URL] [--token TOKEN]",
		"Delete a subject, or one of its versions. A soft delete hides it from readers and\ncompatibility checks; --permanent removes what was soft-deleted before."+registryHelp)
	gw := gatewayFlags(fs)
	permanent := fs.Bool("permanent", false, "hard-delete what was soft-deleted before")
	fs.exitStatus(exitsClient)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fmt.Fprintln(env.Stderr, "schema delete: want SUBJECT [VERSION]")
		return exitUsage
	}
	path := subjectPath(fs.Arg(0))
	what := fs.Arg(0)
	if fs.NArg() == 2 {
		path += "/versions/" + url.PathEscape(fs.Arg(1))
		what += " version " + fs.Arg(1)
	}
	if *permanent {
		path += "?permanent=true"
	}
	if err := gw.call(ctx, http.MethodDelete, path, nil, nil); err != nil {
		fmt.Fprintf(env.Stderr, "schema delete: %v\n", err)
		return exitInvalid
	}
	kind := "soft-deleted"
	if *permanent {
		kind = "permanently deleted"
	}
	fmt.Fprintf(env.Stdout, "%s %s\n", what, kind)
	return exitOK
}

func runSchemaState(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "schema state", "SUBJECT VERSION STATE [--server URL] [--token TOKEN]",
		"Set a version's rollout state: registered (stored, not enforced), shadow (evaluated on live\nrecords beside the enforced version, deciding nothing: see 'schema shadow'), enforced, or\ndeprecated. The change is logged and audited by the gateway."+registryHelp)
	gw := gatewayFlags(fs)
	fs.exitStatus(`0  done
1  the gateway could not be reached, or refused the change (why is on stderr)
2  bad flags or arguments, or a state or version the gateway does not accept`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() != 3 {
		fmt.Fprintln(env.Stderr, "schema state: want SUBJECT VERSION STATE")
		return exitUsage
	}
	path := "/api/v1/schemas/" + url.PathEscape(fs.Arg(0)) + "/versions/" + url.PathEscape(fs.Arg(1)) + "/state"
	if err := gw.call(ctx, http.MethodPut, path, map[string]string{"state": fs.Arg(2)}, nil); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			fmt.Fprintf(env.Stderr, "schema state: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(env.Stderr, "schema state: %v\n", err)
		return exitInvalid
	}
	if fs.Arg(2) == string(registry.StateShadow) {
		fmt.Fprintf(env.Stdout, "%s version %s is now in shadow: 'dataquarantine schema shadow %s' shows what it would change\n", fs.Arg(0), fs.Arg(1), fs.Arg(0))
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "%s version %s is now %s\n", fs.Arg(0), fs.Arg(1), fs.Arg(2))
	return exitOK
}
