package safeio

import "os"

// setBlocking has nothing to clear on Windows, where opening a file never
// waits for a writer.
func setBlocking(*os.File) error { return nil }
