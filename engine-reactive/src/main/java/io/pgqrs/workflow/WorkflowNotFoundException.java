package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/** No workflow of that name is registered in this store. */
public class WorkflowNotFoundException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String workflow;

  /**
   * Creates the exception.
   *
   * @param workflow the name asked for
   */
  public WorkflowNotFoundException(String workflow) {
    super("workflow '" + workflow + "' is not registered; register it with store.runs().register(definition)", null);
    this.workflow = workflow;
  }

  /**
   * The name asked for.
   *
   * @return the workflow name
   */
  public String workflow() {
    return workflow;
  }
}
