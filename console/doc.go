// Command msgo runs and drives a msgo node: start, stop, reload, status,
// token, bench, migrate.
package main
