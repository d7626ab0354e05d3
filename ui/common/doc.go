// Package common holds what the root model and every view share: the
// Component contract, the Common struct (size, styles, key map, context),
// styles derived from a theme palette, and the key map with its config-file
// overrides.
package common
