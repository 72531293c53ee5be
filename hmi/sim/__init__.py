"""The demo plant: a process model served over OPC UA and Modbus. No Qt."""
