package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Error is a configuration error: the file, the line and the field it is about, and what is expected.
type Error struct {
	File  string
	Line  int
	Field string // dotted path, e.g. github[0].token_file
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// nodeDecoder is implemented by scalar types with their own syntax (durations, dates, secrets, ...).
// The returned error's text is the "expected ..." part of the message; the decoder adds file, line, field.
type nodeDecoder interface {
	decodeNode(n *yaml.Node) error
}

// decoder walks a YAML node tree and a Go value together, so every error knows its line and field path,
// and records the line of every path for the validation that follows.
type decoder struct {
	file  string
	lines map[string]int
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)}
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

var nodeDecoderType = reflect.TypeFor[nodeDecoder]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return d.decode(n.Content[0], v, path)
	}
	if n.Kind == yaml.AliasNode {
		return d.decode(n.Alias, v, path)
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	// An empty value (key: with nothing after it, or ~) leaves the field unset, as if it were not written:
	// validation then says what is missing instead of the decoder complaining about "".
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		if n.Kind != yaml.ScalarNode {
			return d.errorf(n, path, "expected a single value, got a %s", kindName(n))
		}
		if err := v.Addr().Interface().(nodeDecoder).decodeNode(n); err != nil {
			return d.errorf(n, path, "%s", err.Error())
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			if n.Kind == yaml.ScalarNode {
				// A common slip: organizations: acme instead of organizations: [acme].
				return d.errorf(n, path, "expected a list, got a %s (write [%s] for a list of one)", kindName(n), n.Value)
			}
			return d.errorf(n, path, "expected a list, got a %s", kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return d.errorf(n, path, "expected a mapping of names to values, got a %s", kindName(n))
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if m.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())).IsValid() {
				return d.errorf(k, join(path, k.Value), "appears twice; expected each name once")
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, elem, join(path, k.Value)); err != nil {
				return err
			}
			d.lines[join(path, k.Value)] = k.Line
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "expected %s, got a %s", typeName(v.Type()), kindName(n))
	}
	switch v.Kind() {
	case reflect.String:
		if n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" {
			return d.errorf(n, path, "expected a string, got %q (quote it to mean the text: \"%s\")", n.Value, n.Value)
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil || n.Tag != "!!bool" {
			return d.errorf(n, path, "expected true or false, got %q", n.Value)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return d.errorf(n, path, "expected a whole number, got %q", n.Value)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return d.errorf(n, path, "expected a number, got %q", n.Value)
		}
		v.SetFloat(f)
	default:
		return d.errorf(n, path, "unsupported field type %s", v.Type())
	}
	return nil
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		what := "the configuration"
		if path != "" {
			what = "this section"
		}
		return d.errorf(n, path, "expected a mapping of %s's fields, got a %s", what, kindName(n))
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			sort.Strings(names)
			hint := ""
			if c := catalog.Closest(k.Value, names); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			return d.errorf(k, join(path, k.Value), "unknown field%s; expected one of: %s", hint, strings.Join(names, ", "))
		}
		if seen[k.Value] {
			return d.errorf(k, join(path, k.Value), "appears twice; expected each field once")
		}
		seen[k.Value] = true
		if err := d.decode(val, v.Field(idx), join(path, k.Value)); err != nil {
			return err
		}
		d.lines[join(path, k.Value)] = k.Line
	}
	return nil
}

func structFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		out[tag] = i
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return fmt.Sprintf("value %q", n.Value)
	}
	return "value"
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return "a value"
}

// DecodeFile strictly decodes the YAML file at path into v (a pointer to a struct), with the same
// error messages as the configuration: file, line, field and what is expected. Fields' lines are
// returned for validation messages of the caller (see Lines.Fail).
func DecodeFile(path string, v any) (Lines, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Lines{}, &Error{File: path, Msg: "expected a file; it does not exist"}
		}
		return Lines{}, &Error{File: path, Msg: fmt.Sprintf("cannot read the file: %v", errors.Unwrap(err))}
	}
	return DecodeBytes(b, path, v)
}

// DecodeBytes is DecodeFile on content already read; file names it in messages.
func DecodeBytes(b []byte, file string, v any) (Lines, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return Lines{}, &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
		}
		return Lines{}, &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	d := &decoder{file: file, lines: map[string]int{}}
	if err := d.decode(&root, reflect.ValueOf(v).Elem(), ""); err != nil {
		return Lines{}, err
	}
	return Lines{file: file, lines: d.lines}, nil
}

// Lines remembers where each field of a decoded file was written.
type Lines struct {
	file  string
	lines map[string]int
}

// Fail returns an error about field at the line it (or its closest parent) was written on.
func (l Lines) Fail(field, format string, args ...any) error {
	line := 0
	for p := field; p != ""; p = parent(p) {
		if n, ok := l.lines[p]; ok {
			line = n
			break
		}
	}
	return &Error{File: l.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}
