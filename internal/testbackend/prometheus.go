package testbackend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// PrometheusServer is a Prometheus server (Debian's prometheus binary) for
// one test.
type PrometheusServer struct {
	url string
}

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (s *PrometheusServer) URL() string { return s.url }

// PrometheusOptions configure NewPrometheusServer.
type PrometheusOptions struct {
	// Config is the prometheus.yml: scrape targets, rule files... Default
	// "": no scrapes.
	Config string
	// OpenMetrics are samples with timestamps (OpenMetrics text ending in
	// "# EOF") loaded before the server starts, with promtool's
	// create-blocks-from openmetrics: history a test would otherwise wait
	// for. Their timestamps must be within the last 15 days (Prometheus'
	// retention). Default none.
	OpenMetrics []byte
}

// NewPrometheusServer starts Prometheus for t alone with opts, on
// 127.0.0.1 and a free port, with its data in a temporary directory, and
// waits until it is ready. It stops when t ends. Without prometheus (and
// promtool, for OpenMetrics) on $PATH the test is skipped, or fails under
// CI=true.
func NewPrometheusServer(t testing.TB, opts PrometheusOptions) *PrometheusServer {
	t.Helper()
	s, stop, err := startPrometheus(opts)
	mustHave(t, "Prometheus", err)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("testbackend: %v", err)
		}
	})
	return s
}

func startPrometheus(opts PrometheusOptions) (*PrometheusServer, func() error, error) {
	bin, err := prometheusTool("prometheus")
	if err != nil {
		return nil, nil, err
	}
	dir, err := makeTempDir("prometheus")
	if err != nil {
		return nil, nil, err
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(opts.Config), 0o600); err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	if len(opts.OpenMetrics) > 0 {
		if err := loadOpenMetrics(dir, opts.OpenMetrics); err != nil {
			return nil, nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(dir, "prometheus.log")
	cmd := exec.Command(bin, //nolint:gosec // the test's own Prometheus
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	p, err := startProcess("prometheus", cmd, logPath, syscall.SIGKILL)
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	stop := func() error {
		return errors.Join(p.stop(syscall.SIGTERM, 10*time.Second), os.RemoveAll(dir))
	}
	s := &PrometheusServer{url: "http://" + addr}
	err = p.waitServing(syscall.SIGKILL, func() error {
		if !ready(s.url + "/-/ready") {
			return fmt.Errorf("prometheus on %s is not ready", addr)
		}
		return nil
	})
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	return s, stop, nil
}

func prometheusTool(name string) (string, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", &unavailableError{"no " + name + " on $PATH (" + err.Error() + "); run scripts/test-deps.sh to install Debian's prometheus package"}
	}
	return bin, nil
}

// loadOpenMetrics writes samples as TSDB blocks into dir/data.
func loadOpenMetrics(dir string, samples []byte) error {
	promtool, err := prometheusTool("promtool")
	if err != nil {
		return err
	}
	in := filepath.Join(dir, "samples.om")
	if err := os.WriteFile(in, samples, 0o600); err != nil {
		return err
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", //nolint:gosec // the test's own samples
		in, filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %w: %s", err, out)
	}
	return nil
}

func ready(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
