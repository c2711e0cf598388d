"""xhal code generator: op_specs/*.yaml -> C ABI header, op table, bindings, wrappers, docs."""
