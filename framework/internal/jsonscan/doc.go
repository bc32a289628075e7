// Package jsonscan walks the top-level members of a JSON object without
// decoding it, so a request's envelope (method, id) is found and its
// parameters passed through without reflection or allocation.
//
// Members assumes its input is valid JSON (check with Valid first, which
// accepts exactly what encoding/json's Valid accepts, at a fraction of its
// cost): it trusts the syntax and only finds boundaries. Both are pure and
// safe for concurrent use.
//
//	if !jsonscan.Valid(msg) { ... }
//	jsonscan.Members(msg, func(key, value []byte) bool { ...; return true })
package jsonscan
