package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// childBroker is a Kafka-protocol broker in a process of its own
// ('dataquarantine broker'), so the gateway is measured against a broker
// outside its process, and the broker's CPU is counted apart.
type childBroker struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

// startBroker runs exe broker on a free loopback port with its log in
// dataDir, and returns once it prints its address.
func startBroker(exe, dataDir string) (*childBroker, error) {
	cmd := exec.Command(exe, "broker", "--listen", "127.0.0.1:0", "--data-dir", dataDir) //nolint:gosec // this binary, or the one the caller names
	cmd.Env = append(os.Environ(), "DQ_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the broker process (%s broker): %w", exe, err)
	}
	b := &childBroker{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "broker listening on "); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()
	select {
	case b.addr = <-addr:
		return b, nil
	case <-b.exited:
		return nil, errors.New("the broker process exited before listening")
	case <-time.After(30 * time.Second):
		b.stop()
		return nil, errors.New("the broker process did not listen within 30s")
	}
}

// cpu is the broker process's CPU time so far.
func (b *childBroker) cpu() time.Duration { return processCPU(b.cmd.Process.Pid) }

func (b *childBroker) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}
