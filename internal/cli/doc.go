// Package cli implements the dataquarantine command line: parsing each
// command's flags, loading the config, and handing over to the app or the
// offline validator. main only calls Main.
package cli
