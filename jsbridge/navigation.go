//go:build js && wasm

package jsbridge

import "github.com/hack-pad/safejs"

// Href returns location.href.
func Href() (string, error) {
	loc, err := safejs.Global().Get("location")
	if err != nil {
		return "", err
	}
	h, err := loc.Get("href")
	if err != nil {
		return "", err
	}
	return h.String()
}

// Assign navigates with location.assign(url).
func Assign(url string) error {
	loc, err := safejs.Global().Get("location")
	if err != nil {
		return err
	}
	_, err = loc.Call("assign", url)
	return err
}

// ReplaceURL changes the address bar without navigating or adding a history
// entry (history.replaceState), keeping the current history state.
func ReplaceURL(url string) error {
	h, err := safejs.Global().Get("history")
	if err != nil {
		return err
	}
	state, err := h.Get("state")
	if err != nil {
		return err
	}
	_, err = h.Call("replaceState", state, "", url)
	return err
}
