// Package tools pins the build tools doghouse uses (OCB and mdatagen) in their own module, so the
// mirror's missing version lists do not matter and the product's go.mod stays free of them.
package tools
