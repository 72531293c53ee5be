"""The station's services without Qt, wired by one builder (``station``). Importing this
package loads nothing: ``hmi serve`` starts its drivers before it loads storage."""
