// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/**
 * @title LocalMulticall
 * @notice Minimal batch-call helper exposing the Multicall3 entry points that off-chain
 * tooling relies on (`tryAggregate`, `aggregate3`, `getBlockNumber`,
 * `getCurrentBlockTimestamp`). The local stack places its runtime code at the canonical
 * Multicall3 address with anvil_setCode so that libraries which hard-code that address
 * (viem's multicall, the x402 EVM facilitator's failure diagnostics) work on a bare anvil.
 * Stateless and constructor-free, so its runtime code can live at any address.
 */
contract LocalMulticall {
    struct Call {
        address target;
        bytes callData;
    }

    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Runs every call; reverts on the first failure only when `requireSuccess` is set.
    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        external
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (requireSuccess) {
                require(success, "LocalMulticall: call failed");
            }
            returnData[i] = Result(success, ret);
        }
    }

    /// @notice Runs every call; reverts when a call that does not allow failure fails.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(success || calls[i].allowFailure, "LocalMulticall: call failed");
            returnData[i] = Result(success, ret);
        }
    }

    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }

    function getCurrentBlockTimestamp() external view returns (uint256) {
        return block.timestamp;
    }
}
