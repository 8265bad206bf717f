// Package api is the control daemon's HTTP/JSON interface over a unix socket, and the Go
// client the CLI uses. README.md documents every endpoint.
//
// The socket is created mode 0600 (owner only): whoever can connect can change what the
// load balancer does. Every error has the same JSON body (Error), with one entry per problem
// in Details when a configuration is refused.
package api
