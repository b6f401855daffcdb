// Package integration runs the real cachalot binary against real clients
// (go-redis, rueidis, redis-cli, redis-benchmark) and compares its raw
// protocol handling with redis-server's.
package integration
