package ui

// openManual opens the man page of the call the inspector shows: the held
// one, else the selected one.
func (a *attached) openManual(m *Model) {
	r, ok := a.insp.Shown()
	if !ok {
		m.setNote("no call selected to explain", true)
		return
	}
	a.man.Open(r)
}
