// Package index is msgo's sample module: an echo and a whoami, the place to
// start reading when writing a module of your own.
//
//	index.Register(router)
//
// Handlers run on the connection's worker; they hold no state of their own.
package index
