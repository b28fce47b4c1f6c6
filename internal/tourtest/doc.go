// Package tourtest runs the README's tour as a new user would, and checks
// that it prints what the README says it prints.
//
// TestTour installs the command line with the README's own `go install
// ./cmd/dataquarantine` (into a directory of the test's, put first on
// PATH), starts `dataquarantine serve --demo` as the README does (on free
// ports: the one change, besides $DQ_SERVER naming its HTTP address for the
// client commands), then feeds every command of the tour's ```console
// blocks, verbatim, to one bash session in an empty directory, with the
// README's 127.0.0.1:9092 and 127.0.0.1:8080 replaced by the gateway's
// addresses. Each command must exit 0 (a command whose status matters
// shows it with `; echo "exit status $?"`), and the lines the README shows
// under it must appear in its output, in order: runs of spaces compare
// equal, and "..." stands for anything. Commands that only read (kcat -C,
// curl, quarantine list and show, circuit status) are run again until their
// output matches, since the gateway works asynchronously; the others run
// once.
//
// The package has no non-test code; this file documents it. The test needs
// the Go toolchain, bash, kcat and curl (with CI=true a missing one fails).
package tourtest
