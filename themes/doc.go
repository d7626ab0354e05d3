// Package themes holds colour palettes (dark, light, and none for NO_COLOR);
// the UI derives its styles from one.
package themes
