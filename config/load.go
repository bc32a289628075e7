package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// defaults holds the default files; the same files sit beside this source as
// commented examples of every key.
//
//go:embed app.yaml db.yaml cache.yaml
var defaults embed.FS

// fileNames are the config files in the order they are applied.
var fileNames = []string{"app.yaml", "db.yaml", "cache.yaml"}

// Load returns the configuration: the built-in defaults, then app.yaml,
// db.yaml and cache.yaml from dir where present (dir "" reads none), then the
// environment variables env reports (nil reads none; pass os.LookupEnv).
// It fails on an unknown key, a key in the wrong file, a value of the wrong
// type, and anything Validate rejects.
func Load(dir string, env func(string) (string, bool)) (*Config, error) {
	c := new(Config)
	for _, name := range fileNames {
		data, err := defaults.ReadFile(name)
		if err == nil {
			err = decodeFile(c, name, data)
		}
		if err != nil {
			return nil, fmt.Errorf("config: built-in %s: %w", name, err)
		}
	}
	if dir != "" {
		for _, name := range fileNames {
			path := filepath.Join(dir, name)
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err == nil {
				err = decodeFile(c, name, data)
			}
			if err != nil {
				return nil, fmt.Errorf("config: %s: %w", path, err)
			}
		}
	}
	if env != nil {
		if err := applyEnv(c, env); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Default returns the built-in configuration, with no files or environment
// applied. It is meant for tests and tools.
func Default() *Config {
	c, err := Load("", nil)
	if err != nil {
		panic(err) // the embedded files are checked by the package tests
	}
	return c
}

// decodeFile applies one YAML file over c. Keys it does not set keep their
// value; a list it sets replaces the old list.
func decodeFile(c *Config, name string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil // empty, or only comments
	}
	if err := checkKeys(doc.Content[0], reflect.TypeFor[Config](), "", name); err != nil {
		return err
	}
	// checkKeys gives the friendlier message; KnownFields is the backstop for
	// what it does not walk, such as merge keys.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// checkKeys reports the first key of the mapping n that the struct type t has
// no field for, or that belongs in another file than name.
func checkKeys(n *yaml.Node, t reflect.Type, prefix, name string) error {
	if n.Kind != yaml.MappingNode {
		return nil // Decode reports the type mismatch
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fieldByKey(t, k.Value)
		if !ok {
			if k.Tag == "!!merge" {
				continue
			}
			return fmt.Errorf("line %d: unknown key %s%s", k.Line, prefix, k.Value)
		}
		if prefix == "" {
			if want := fileOf(k.Value); want != name {
				return fmt.Errorf("line %d: key %s belongs in %s", k.Line, k.Value, want)
			}
		}
		if f.Type.Kind() == reflect.Struct {
			if err := checkKeys(v, f.Type, prefix+k.Value+".", name); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileOf names the file that holds the top-level key.
func fileOf(key string) string {
	switch key {
	case "db", "cache":
		return key + ".yaml"
	}
	return "app.yaml"
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return key
}

// A setting is one leaf key of Config.
type setting struct {
	path string        // YAML path, "outside.max_frame_size"
	v    reflect.Value // the addressable field
}

// settings lists every leaf key of c in declaration order.
func settings(c *Config) []setting {
	var out []setting
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for f, fv := range v.Fields() {
			path := prefix + yamlKey(f)
			if fv.Kind() == reflect.Struct {
				walk(fv, path+".")
			} else {
				out = append(out, setting{path, fv})
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out
}

// EnvName returns the environment variable that overrides the YAML path:
// "outside.max_frame_size" gives "MSGO_OUTSIDE_MAX_FRAME_SIZE".
func EnvName(path string) string {
	return "MSGO_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// keyError returns an error about the key at path, naming it both ways.
func keyError(path, format string, args ...any) error {
	return fmt.Errorf("config: %s (%s): %s", path, EnvName(path), fmt.Sprintf(format, args...))
}

// applyEnv sets every key whose environment variable env reports.
func applyEnv(c *Config, env func(string) (string, bool)) error {
	for _, s := range settings(c) {
		raw, ok := env(EnvName(s.path))
		if !ok {
			continue
		}
		switch s.v.Kind() {
		case reflect.String:
			s.v.SetString(raw)
		case reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil {
				return keyError(s.path, "not an integer: %q", raw)
			}
			s.v.SetInt(int64(n))
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(raw))
			if err != nil {
				return keyError(s.path, "not a boolean: %q", raw)
			}
			s.v.SetBool(b)
		case reflect.Slice:
			s.v.Set(reflect.ValueOf(splitList(raw)))
		default:
			panic("config: no environment syntax for " + s.path) // caught by the tests
		}
	}
	return nil
}

// splitList splits a comma-separated list, dropping blanks, so "" is empty.
func splitList(s string) []string {
	list := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}
