// Package themes holds colour palettes; the UI derives its styles from one.
package themes
