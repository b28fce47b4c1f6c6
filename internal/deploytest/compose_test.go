package deploytest

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/dataquarantine/dataquarantine/internal/cli"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

const composeFile = "deploy/compose/docker-compose.yml"

type composeService struct {
	Image      string            `yaml:"image"`
	Build      *composeBuild     `yaml:"build"`
	Command    []string          `yaml:"command"`
	Entrypoint []string          `yaml:"entrypoint"`
	Env        map[string]string `yaml:"environment"`
	Ports      []string          `yaml:"ports"`
	Volumes    []string          `yaml:"volumes"`
	Deploy     struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type composeFileT struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func loadCompose(t *testing.T) composeFileT {
	t.Helper()
	var c composeFileT
	dec := yaml.NewDecoder(bytes.NewReader(ReadFile(t, composeFile)))
	dec.KnownFields(false)
	require.NoError(t, dec.Decode(&c), composeFile)
	return c
}

// serveFlags returns the flags `dataquarantine serve` accepts, read from its
// real --help output.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{Args: []string{"serve", "--help"}, Stdout: &out, Stderr: &out})
	require.Zero(t, code, "serve --help: %s", out.String())
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = true
	}
	require.True(t, flags["config"] && flags["brokers"], "serve flags not found in:\n%s", out.String())
	return flags
}

// checkServeArgs checks args (after `dataquarantine serve`) use only real
// flags, and returns their values by flag name.
func checkServeArgs(t *testing.T, args []string) map[string]string {
	t.Helper()
	flags := serveFlags(t)
	values := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		require.True(t, strings.HasPrefix(a, "-"), "serve takes no arguments, got %q in %q", a, args)
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		require.True(t, flags[name], "serve has no flag -%s (it has %v)", name, keysOf(flags))
		if !hasValue && name != "demo" {
			require.Less(t, i+1, len(args), "flag %s needs a value", a)
			i++
			value = args[i]
		}
		values[name] = value
	}
	return values
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// environ turns an env map into KEY=value entries for config.Load.
func environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// checkDQEnv requires every DQ_* variable to be a real configuration key.
func checkDQEnv(t *testing.T, env map[string]string) {
	t.Helper()
	known := ConfigEnvNames()
	for name := range env {
		if strings.HasPrefix(name, "DQ_") {
			require.True(t, known[name], "%s is not a configuration variable (config.Keys)", name)
		}
	}
}

// mountSource returns the host path of a bind mount whose target is target,
// relative to the compose file, or "" when there is none.
func mountSource(svc composeService, target string) string {
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return parts[0]
		}
	}
	return ""
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for _, tc := range []struct {
		service, image string
	}{
		{"kafka", `^apache/kafka:`},
		{"postgres", `^postgres:`},
		{"minio", `^minio/minio`},
		{"prometheus", `^prom/prometheus:`},
		{"grafana", `^grafana/grafana:`},
		{"gateway", `^dataquarantine:`},
		{"demo-producer", `.`},
	} {
		t.Run(tc.service, func(t *testing.T) {
			svc, ok := c.Services[tc.service]
			require.True(t, ok, "no %s service", tc.service)
			require.Regexp(t, tc.image, svc.Image)
			for _, env := range []map[string]string{svc.Env} {
				checkDQEnv(t, env)
			}
			dir := filepath.Join(RepoRoot(t), filepath.Dir(composeFile))
			for _, v := range svc.Volumes {
				src := strings.Split(v, ":")[0]
				if strings.HasPrefix(src, ".") {
					_, err := os.Stat(filepath.Join(dir, src))
					require.NoError(t, err, "volume source %s", src)
				} else {
					require.Contains(t, c.Volumes, src, "named volume %s not declared", src)
				}
			}
		})
	}
}

func TestComposeKafkaIsKRaft(t *testing.T) {
	c := loadCompose(t)
	k := c.Services["kafka"]
	require.Contains(t, k.Env["KAFKA_PROCESS_ROLES"], "controller", "KRaft: the broker is its own controller")
	require.NotEmpty(t, k.Env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
	for name := range k.Env {
		require.NotContains(t, name, "ZOOKEEPER")
	}
	brokers := c.Services["gateway"].Env["DQ_KAFKA_BROKERS"]
	require.Contains(t, k.Env["KAFKA_ADVERTISED_LISTENERS"], "://"+brokers, "gateways must use an advertised listener")
}

func TestComposeGateway(t *testing.T) {
	c := loadCompose(t)
	gw := c.Services["gateway"]
	root := RepoRoot(t)
	composeDir := filepath.Join(root, filepath.Dir(composeFile))

	require.NotNil(t, gw.Build)
	ctxDir, err := filepath.Abs(filepath.Join(composeDir, gw.Build.Context))
	require.NoError(t, err)
	require.Equal(t, root, ctxDir, "build context is the repository root")
	require.FileExists(t, filepath.Join(ctxDir, gw.Build.Dockerfile))
	require.Equal(t, 3, gw.Deploy.Replicas)

	// The command is serve's flags (the image's ENTRYPOINT is serve).
	args := checkServeArgs(t, gw.Command)
	cfgSrc := mountSource(gw, args["config"])
	require.NotEmpty(t, cfgSrc, "--config %s is not mounted", args["config"])

	// The environment and the mounted file make a valid configuration.
	checkDQEnv(t, gw.Env)
	cfg, err := config.Load(filepath.Join(composeDir, cfgSrc), environ(gw.Env))
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, []string{"kafka:9092"}, cfg.Kafka.Brokers)

	// Ports: the listen port is the published container port, one host port
	// per replica, and the port Prometheus scrapes.
	_, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	require.NoError(t, err)
	require.Len(t, gw.Ports, 1)
	hostRange, container, ok := strings.Cut(gw.Ports[0], ":")
	require.True(t, ok)
	require.Equal(t, port, container)
	lo, hi, _ := strings.Cut(hostRange, "-")
	loN, err1 := strconv.Atoi(lo)
	hiN, err2 := strconv.Atoi(hi)
	require.NoError(t, err1)
	require.NoError(t, err2)
	require.Equal(t, gw.Deploy.Replicas, hiN-loN+1, "one host port per replica")

	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(ReadFile(t, "deploy/prometheus/prometheus.yml"), &prom))
	var found bool
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName != "dataquarantine" {
			continue
		}
		found = true
		require.Len(t, sc.DNSSDConfigs, 1)
		require.Equal(t, []string{"gateway"}, sc.DNSSDConfigs[0].Names)
		require.Equal(t, port, strconv.Itoa(sc.DNSSDConfigs[0].Port))
	}
	require.True(t, found, `no job "dataquarantine" (the alerts' up{job="dataquarantine"})`)

	// Credentials agree with the servers'.
	pg := c.Services["postgres"].Env
	meta, err := url.Parse(cfg.MetadataURL())
	require.NoError(t, err)
	pass, _ := meta.User.Password()
	require.Equal(t, pg["POSTGRES_USER"], meta.User.Username())
	require.Equal(t, pg["POSTGRES_PASSWORD"], pass)
	require.Equal(t, "/"+pg["POSTGRES_DB"], meta.Path)
	require.Equal(t, "postgres:5432", meta.Host)
	s3, err := config.ParseS3URL(cfg.PayloadsURL())
	require.NoError(t, err)
	require.Equal(t, "minio:9000", s3.Endpoint)
	mio := c.Services["minio"].Env
	require.Equal(t, mio["MINIO_ROOT_USER"], cfg.Storage.Payloads.AccessKey)
	require.Equal(t, mio["MINIO_ROOT_PASSWORD"], cfg.Storage.Payloads.SecretKey)

	// The demo producer writes to the first input topic, through the
	// gateways' broker address.
	demo := strings.Join(c.Services["demo-producer"].Command, "\n")
	require.Contains(t, demo, "-b "+cfg.Kafka.Brokers[0])
	require.Contains(t, demo, "-t "+cfg.Topics.Inputs[0].Topic)
}

func TestComposePrometheusAndGrafana(t *testing.T) {
	c := loadCompose(t)
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	require.NoError(t, yaml.Unmarshal(ReadFile(t, "deploy/prometheus/prometheus.yml"), &prom))
	p := c.Services["prometheus"]
	require.Len(t, prom.RuleFiles, 1)
	require.Equal(t, "../prometheus/alerts.yml", mountSource(p, prom.RuleFiles[0]), "the rules are mounted where prometheus.yml loads them")
	require.Contains(t, p.Command, "--config.file=/etc/prometheus/prometheus.yml")
	require.Equal(t, "../prometheus/prometheus.yml", mountSource(p, "/etc/prometheus/prometheus.yml"))

	g := c.Services["grafana"]
	require.Equal(t, "../grafana/provisioning", mountSource(g, "/etc/grafana/provisioning"))
	require.Equal(t, "../grafana/dashboards", mountSource(g, grafanaDashboardsPath))
}
