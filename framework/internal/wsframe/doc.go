// Package wsframe parses WebSocket frame headers from bytes already read and
// builds server frames, so the connection layer never hands untrusted input to
// a reader that allocates by the length a peer claims.
//
// Everything here is pure and allocation-free apart from the frames Build
// returns; it is safe for concurrent use.
//
//	h, n, err := wsframe.ParseHeader(buf)
//	if err == wsframe.ErrShort { /* wait for more bytes */ }
package wsframe
