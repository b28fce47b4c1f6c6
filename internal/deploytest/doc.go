// Package deploytest checks the deployment files under deploy/, the
// Dockerfile and the docs that describe them against the real binary: alert
// rules with promtool, dashboard queries against the metrics a running
// gateway exports (and a real Prometheus server), compose and Kubernetes
// manifests against the real config keys and serve flags.
//
// It has no non-test code of its own beyond the helpers its tests share.
package deploytest
