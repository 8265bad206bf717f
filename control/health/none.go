package health

import "context"

// noneChecker is for backends the operator vouches for: always up.
type noneChecker struct{}

func (noneChecker) Check(context.Context) Result {
	return succeeded(0, "no health check configured")
}
