package manager

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The OpenAPI 3.1 document of the manager port, served at
// /api/openapi.json. It is built from one table of calls, and a test checks
// it against the routes the manager serves and validates real answers
// against its schemas, so it cannot drift from the code.

type schema = map[string]any

func obj(required []string, props schema) schema {
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// closed is obj for a request body: a key the call does not take is refused.
func closed(required []string, props schema) schema {
	s := obj(required, props)
	s["additionalProperties"] = false
	return s
}

func typed(t string, desc string) schema {
	s := schema{"type": t}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func arrayOf(items schema) schema { return schema{"type": "array", "items": items} }

var (
	str        = typed("string", "")
	integer    = typed("integer", "")
	boolean    = typed("boolean", "")
	anyObject  = typed("object", "")
	idSchema   = schema{"type": []string{"string", "integer"}, "description": "user id: a string, or an integer read as its decimal text"}
	typeSchema = schema{"type": "string", "enum": []string{"wechatUser", "wall", "kefu"}, "description": "user type; absent = every type"}
	roomSchema = schema{"type": []string{"string", "integer"}, "description": "room name: the namespace of the live module's token code"}
	delivered_ = obj([]string{"delivered"}, schema{"delivered": typed("integer", "connections reached, cluster-wide")})
	userRef    = obj([]string{"id", "type"}, schema{"id": str, "type": str})
)

// call is one manager call in the document.
type call struct {
	path, method, summary string
	open                  bool    // served without the token
	query                 []param // GET parameters
	body                  schema  // POST body
	data                  schema  // data of the 200 answer; nil: not the JSON envelope
	errors                []int   // statuses besides the common ones
}

type param struct {
	name     string
	required bool
	schema   schema
}

func pushBody(required []string, props schema) schema {
	props["event"] = typed("string", "push name, the frame's event")
	props["param"] = typed("object", "the frame's param")
	props["info"] = typed("string", "the frame's info")
	return closed(append(required, "event", "param"), props)
}

// calls lists every call the manager serves.
var calls = []call{
	{path: "/healthz", method: http.MethodGet, summary: "The process is alive.", open: true,
		data: obj([]string{"status"}, schema{"status": str})},
	{path: "/readyz", method: http.MethodGet, summary: "The node accepts connections and its store and database answer; 503 otherwise.", open: true,
		data: obj([]string{"status"}, schema{"status": str}), errors: []int{503}},
	{path: "/metrics", method: http.MethodGet, summary: "Prometheus text format."},
	{path: "/api/openapi.json", method: http.MethodGet, summary: "This document."},
	{path: "/api/status", method: http.MethodGet, summary: "This node and the cluster.",
		data: obj([]string{"node_id", "version", "go_version", "pid", "started", "uptime", "draining", "connections", "users", "rooms", "goroutines", "memory", "cluster", "nodes"}, schema{
			"node_id": str, "version": str, "go_version": str, "pid": integer,
			"started": typed("integer", "unix seconds"), "uptime": typed("integer", "seconds"), "draining": boolean,
			"connections": typed("integer", "this node's"), "users": typed("integer", "this node's distinct users"),
			"rooms": typed("integer", "groups with a member on this node"), "goroutines": integer,
			"memory": obj([]string{"sys", "heap_alloc", "rss"}, schema{"sys": integer, "heap_alloc": integer, "rss": integer}),
			"cluster": schema{"type": []string{"object", "null"}, "required": []string{"nodes", "connections", "users"},
				"properties": schema{"nodes": integer, "connections": integer, "users": integer}},
			"nodes":         arrayOf(obj([]string{"id", "connections", "started"}, schema{"id": str, "connections": integer, "started": integer})),
			"cluster_error": str,
		})},
	{path: "/api/online/count", method: http.MethodGet, summary: "Connections and distinct users, cluster-wide.",
		data: obj([]string{"connections", "users"}, schema{"connections": integer, "users": integer})},
	{path: "/api/online/users", method: http.MethodGet, summary: "Every online user once, however many devices.",
		query: []param{{"type", false, typeSchema}},
		data:  obj([]string{"users", "count"}, schema{"users": arrayOf(userRef), "count": integer})},
	{path: "/api/online/check", method: http.MethodGet, summary: "Whether a user has a connection on any node.",
		query: []param{{"id", true, str}, {"type", false, typeSchema}},
		data:  obj([]string{"id", "is_online"}, schema{"id": str, "is_online": boolean})},
	{path: "/api/send/user", method: http.MethodPost, summary: "Push to every connection of a user.",
		body: pushBody([]string{"id"}, schema{"id": idSchema, "type": typeSchema}), data: delivered_},
	{path: "/api/send/users", method: http.MethodPost, summary: "Push to every connection of several users.",
		body: pushBody([]string{"ids"}, schema{"ids": arrayOf(idSchema), "type": typeSchema}), data: delivered_},
	{path: "/api/broadcast", method: http.MethodPost, summary: "Push to every connection.",
		body: pushBody(nil, schema{"exclude_id": idSchema}), data: delivered_},
	{path: "/api/send/room", method: http.MethodPost, summary: "Push to every connection joined to a room.",
		body: pushBody([]string{"room"}, schema{"room": roomSchema}), data: delivered_},
	{path: "/api/notify", method: http.MethodPost, summary: "Push system.notice {title, message, level, time} to ids, or everyone.",
		body: closed([]string{"title", "message", "level"}, schema{"title": str, "message": str, "level": str, "ids": arrayOf(idSchema)}), data: delivered_},
	{path: "/api/data-update", method: http.MethodPost, summary: "Push data.update {resource_type, action, data} to ids, a room, or everyone.",
		body: closed([]string{"resource_type", "action", "data"}, schema{"ids": arrayOf(idSchema), "room": roomSchema,
			"resource_type": str, "action": str, "data": schema{"description": "any JSON value"}}), data: delivered_},
	{path: "/api/disconnect/user", method: http.MethodPost, summary: "Close every connection of a user with 1008.",
		body: closed([]string{"id"}, schema{"id": idSchema, "type": typeSchema}),
		data: obj([]string{"id", "disconnected", "delivered"}, schema{"id": str, "disconnected": integer, "delivered": integer})},
	{path: "/api/room/join", method: http.MethodPost, summary: "Every connection of a user, on every node, joins a room.",
		body: closed([]string{"id", "room"}, schema{"id": idSchema, "type": typeSchema, "room": roomSchema}),
		data: obj([]string{"joined"}, schema{"joined": typed("integer", "connections in the room after the call")})},
	{path: "/api/room/leave", method: http.MethodPost, summary: "Every connection of a user, on every node, leaves a room.",
		body: closed([]string{"id", "room"}, schema{"id": idSchema, "type": typeSchema, "room": roomSchema}),
		data: obj([]string{"left"}, schema{"left": typed("integer", "connections that were in the room")})},
	{path: "/api/room/users", method: http.MethodGet, summary: "The users in a room, each once, ordered by type then id.",
		query: []param{{"room", true, str}, {"limit", false, schema{"type": "integer", "minimum": roomUsersMin, "maximum": roomUsersMax, "default": roomUsersDefault}}},
		data: obj([]string{"users", "count"}, schema{
			"users": arrayOf(obj([]string{"id", "type", "nickname"}, schema{"id": str, "type": str, "nickname": str})),
			"count": typed("integer", "distinct users in the room, however many are listed"),
		})},
	{path: "/api/room/count", method: http.MethodGet, summary: "Connections and distinct users in a room, cluster-wide.",
		query: []param{{"room", true, str}},
		data:  obj([]string{"connections", "users"}, schema{"connections": integer, "users": integer})},
	{path: "/api/user/rooms", method: http.MethodGet, summary: "The rooms any connection of a user is in.",
		query: []param{{"id", true, str}, {"type", false, typeSchema}},
		data:  obj([]string{"rooms"}, schema{"rooms": arrayOf(str)})},
	{path: "/api/admin/stats", method: http.MethodGet, summary: "What the admin page shows besides /api/status: this node's largest rooms and its closes by code.",
		query: []param{{"limit", false, schema{"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}},
		data: obj([]string{"rooms", "closes", "time"}, schema{
			"rooms":  arrayOf(obj([]string{"room", "connections", "users"}, schema{"room": str, "connections": integer, "users": integer})),
			"closes": schema{"type": "object", "additionalProperties": integer, "description": "closed connections by close code since the node started"},
			"time":   typed("integer", "unix ms, when the figures were taken"),
		})},
	{path: adminPath, method: http.MethodGet, summary: "The admin page (HTML); it asks for the token once and calls the API with it.", open: true},
}

// envelopeOf is the answer schema around data.
func envelopeOf(data schema) schema {
	return obj([]string{"code", "message", "data"}, schema{"code": typed("integer", "the HTTP status again"), "message": str, "data": data})
}

// openAPI builds the document.
func openAPI(version string) []byte {
	errorAnswer := func(desc string) schema {
		return schema{"description": desc, "content": schema{"application/json": schema{"schema": schema{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := schema{}
	for _, c := range calls {
		responses := schema{
			"401": errorAnswer("missing or wrong bearer token"),
			"405": errorAnswer("wrong HTTP method"),
		}
		switch {
		case c.path == "/metrics":
			responses["200"] = schema{"description": "metrics", "content": schema{"text/plain": schema{"schema": str}}}
		case c.path == "/api/openapi.json":
			responses["200"] = schema{"description": "this document", "content": schema{"application/json": schema{"schema": anyObject}}}
		case c.path == adminPath:
			responses["200"] = schema{"description": "the page", "content": schema{"text/html": schema{"schema": str}}}
		default:
			responses["200"] = schema{"description": "success", "content": schema{"application/json": schema{"schema": envelopeOf(c.data)}}}
		}
		if c.body != nil || len(c.query) > 0 {
			responses["400"] = errorAnswer("a missing, malformed or unknown key; message names it")
		}
		if c.body != nil {
			responses["413"] = errorAnswer("body over 1 MiB")
			responses["415"] = errorAnswer("Content-Type is not application/json")
		}
		if strings.HasPrefix(c.path, "/api/") && c.path != "/api/openapi.json" {
			responses["503"] = errorAnswer("the store is unavailable")
		}
		for _, st := range c.errors {
			responses[strconv.Itoa(st)] = errorAnswer(http.StatusText(st))
		}
		op := schema{"summary": c.summary, "operationId": operationID(c.path), "responses": responses}
		if c.open {
			op["security"] = []any{}
		}
		var ps []any
		for _, p := range c.query {
			ps = append(ps, schema{"name": p.name, "in": "query", "required": p.required, "schema": p.schema})
		}
		if ps != nil {
			op["parameters"] = ps
		}
		if c.body != nil {
			op["requestBody"] = schema{"required": true, "content": schema{"application/json": schema{"schema": c.body}}}
		}
		paths[c.path] = schema{strings.ToLower(c.method): op}
	}
	doc := schema{
		"openapi": "3.1.0",
		"info": schema{"title": "msgo manager API", "version": version,
			"description": "The backend-facing HTTP port: pushes, presence, rooms, status. Every answer but /metrics and this document is {\"code\",\"message\",\"data\"} with code = the HTTP status."},
		"servers":    []any{schema{"url": "http://127.0.0.1:9502"}},
		"security":   []any{schema{"bearer": []any{}}},
		"paths":      paths,
		"components": schema{"securitySchemes": schema{"bearer": schema{"type": "http", "scheme": "bearer"}}, "schemas": schema{"Error": envelopeOf(schema{})}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // maps of strings, numbers and slices only
	}
	return b
}

// operationID is a path as an identifier: /api/room/join gives roomJoin.
func operationID(path string) string {
	parts := strings.FieldsFunc(strings.TrimPrefix(path, "/api/"), func(r rune) bool { return r == '/' || r == '.' || r == '-' })
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// serveOpenAPI answers the document as it is, not in the envelope: tools
// read it directly.
func (m *Manager) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(m.openapi)
}

// Paths returns every path the manager serves (pprof and the admin page's
// script and style aside), sorted.
func (m *Manager) Paths() []string {
	out := make([]string, 0, len(m.routes))
	for p := range m.routes {
		if !strings.HasPrefix(p, adminPath+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
