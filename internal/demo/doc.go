// Package demo produces realistic mixed traffic for the built-in user_event
// subject: mostly valid events, and a steady share of each kind of invalid
// one, so a new user sees every path of the gateway within seconds.
package demo
