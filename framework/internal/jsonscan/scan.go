package jsonscan

import "errors"

// ErrNotObject means the JSON value is not an object.
var ErrNotObject = errors.New("jsonscan: not an object")

// Members calls fn for each top-level member of the object in data, in
// order, with the key as it appears between its quotes (escapes not decoded)
// and the value's raw bytes. fn returns false to stop. data must be valid
// JSON.
func Members(data []byte, fn func(key, value []byte) bool) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ErrNotObject
	}
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] != '}' {
		kEnd := stringEnd(data, i)
		key := data[i+1 : kEnd-1]
		i = skipSpace(data, kEnd)
		i = skipSpace(data, i+1) // the colon
		vEnd := valueEnd(data, i)
		if !fn(key, data[i:vEnd]) {
			return nil
		}
		i = skipSpace(data, vEnd)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index after the closing quote of the string at i.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the value at i.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default: // number, true, false, null
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}
