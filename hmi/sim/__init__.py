"""The demo plant: a process model served over OPC UA and Modbus. No Qt.

- ``process``: the water-treatment plant as a pure, deterministic model (``Plant``)
- ``equipment``: tanks, valves, pumps, the PI controller, measurement noise
- ``points``: the one point table both servers are built from (NodeIds, Modbus map)
- ``opcua_server`` / ``modbus_server``: the protocol front ends
- ``runner``: ``serve()``, ``PlantStack`` and ``main()`` for ``hmi sim``

docs/plant.md describes the plant, the address space and the register map.
"""
