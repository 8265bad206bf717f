// Package configs embeds the lab configuration, the default the demo runs.
package configs

import _ "embed"

// Lab is configs/lab.yaml.
//
//go:embed lab.yaml
var Lab []byte
