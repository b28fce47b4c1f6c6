// Package testbackend finds or starts the real servers that adapter tests
// run against, a PostgreSQL cluster and a MinIO server, once per test binary,
// and gives each test its own empty PostgreSQL schema or S3 bucket; and a
// Prometheus server per test (NewPrometheusServer) with the test's own
// scrape configuration. Nothing is mocked: a test that passes here has
// talked to the real thing.
//
// A package whose tests use it routes its TestMain through Main, which stops
// the servers and removes their files when the tests are done (and then runs
// any leak checks):
//
//	func TestMain(m *testing.M) {
//		testbackend.Main(m, func() error { return goleak.Find() })
//	}
//
//	func TestSomething(t *testing.T) {
//		url := testbackend.Postgres(t)  // postgres://...?search_path=t_3f9c...
//		bucket := testbackend.S3(t)      // endpoint, credentials, a fresh bucket name
//		...
//	}
//
// Where the servers come from, in order:
//
//   - PostgreSQL: DQ_TEST_POSTGRES_URL if set (a postgres:// URL of a role
//     that may CREATE SCHEMA in its database); otherwise a throwaway cluster:
//     initdb from /usr/lib/postgresql/*/bin (newest version) or $PATH, then
//     the postgres server on 127.0.0.1 and a random port, its unix socket and
//     data in a temporary directory, a random password, fsync settings left
//     at their defaults. As root, both run as the postgres user.
//   - MinIO: DQ_TEST_S3_ENDPOINT (host:port) with DQ_TEST_S3_ACCESS_KEY,
//     DQ_TEST_S3_SECRET_KEY and optionally DQ_TEST_S3_SECURE=true and
//     DQ_TEST_S3_REGION if set; otherwise `minio server` from $PATH or
//     <repo>/bin/tools/minio, on 127.0.0.1 and a random port, with a
//     temporary data directory and random root credentials.
//
// The servers started here are children of the test binary with a parent
// death signal, so even a test binary that is killed or times out leaves no
// server running; its temporary directory is removed by the next run.
//
// A backend that is not installed (and not configured by the environment)
// skips the test with a message saying how to get it (`make test` installs
// both through scripts/test-deps.sh). With CI=true the test fails instead:
// CI must never pass by skipping. A backend that is installed but fails to
// start always fails the test. Tests that need something else from outside
// the module (kcat, chromium, promtool, the conformance cases in
// ../shared) follow the same rule through Need and Command.
//
// Fault tests that stop and restart a server use a dedicated one,
// NewPostgresServer or NewMinIOServer, never the shared one.
package testbackend
